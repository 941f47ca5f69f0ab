/* Front matter values straight from libyaml's event stream (the optional YAML accelerator).
 *
 * PyYAML's CSafeLoader parses in C (libyaml) but builds a Python node object for every event and
 * calls its Python resolver for every scalar before constructing values in Python. This module
 * drives the same libyaml parser over the same UTF-8 bytes and builds the plain values directly:
 * mappings as dicts (a repeated key: the last value wins, as in PyYAML), sequences as lists, and
 * scalars as str, except plain (unquoted) scalars that PyYAML's implicit resolvers could type: those
 * whose first character starts one of the resolver's patterns, or the empty scalar. They go to
 * `resolve`, a Python callable that applies PyYAML's own resolver and constructors (see
 * fast_yaml.py); its answers for short texts are kept in `cache`, since keys and small values repeat.
 *
 * Anything outside that subset returns `fallback` so that the caller hands the whole document to
 * PyYAML: a parse error (PyYAML then reports it, with its message and line), an anchor or alias, an
 * explicit tag, a collection used as a key, more than one document, no document, or nesting deeper
 * than MAX_DEPTH (PyYAML decides whether that is too deep). The same parser sees the same bytes, so
 * the two can only differ in how values are built, which tests/reading/test_accelerator.py and
 * bench/yaml_equal.py check against PyYAML on every article file they can find.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <yaml.h>

/* What `load` takes, as fast_yaml.py expects it: a build left from an older checkout is not used. */
#define FRONTMATTER_INTERFACE 2
#define MAX_DEPTH 64
#define CACHE_MAX_TEXT 40   /* only texts this short are cached: dates and URLs would only fill it */
#define CACHE_MAX_ITEMS 8192

typedef struct {
    PyObject *container;  /* a dict or a list (borrowed from its parent, or owned by `root`) */
    PyObject *key;        /* a dict's key awaiting its value (owned), or NULL */
} Frame;

typedef struct {
    const char *resolvable;  /* first characters PyYAML's implicit resolvers look at */
    Py_ssize_t resolvable_len;
    int resolve_all;         /* a resolver for any first character: resolve every plain scalar */
    PyObject *resolve;
    PyObject *cache;
    int stamps_are_str;      /* `2026-05-31T23:59:00Z` resolves to a timestamp, which the loader reads as str */
} Scalars;

/* Whether `text` is a date in the form nearly every article has, `2026-05-31T23:59:00Z`: ASCII digits
 * where the d's are. PyYAML's standard resolvers give every such text the timestamp tag (its int and
 * float patterns match no text with a '-' after four digits and no '.'), and fast_yaml.py says
 * whether the loader's resolvers are those and read timestamps as str (`stamps_are_str`). A date is
 * then the text itself: no call to `resolve`, and no room taken in `cache` by values that never repeat. */
static int
utc_stamp(const char *text, size_t length)
{
    static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
    if (length != sizeof form - 1)
        return 0;
    for (size_t i = 0; i < length; i++) {
        if (form[i] == 'd' ? (text[i] < '0' || text[i] > '9') : text[i] != form[i])
            return 0;
    }
    return 1;
}

static PyObject *
plain_scalar(const Scalars *scalars, const char *text, size_t length)
{
    PyObject *value = PyUnicode_DecodeUTF8(text, (Py_ssize_t)length, "strict");
    if (value == NULL)
        return NULL;
    if (!scalars->resolve_all && length > 0
        && memchr(scalars->resolvable, text[0], (size_t)scalars->resolvable_len) == NULL)
        return value;  /* no resolver starts with this character: a str, as PyYAML gives */
    if (scalars->stamps_are_str && utc_stamp(text, length))
        return value;
    PyObject *cached = PyDict_GetItemWithError(scalars->cache, value);
    if (cached != NULL) {
        Py_DECREF(value);
        Py_INCREF(cached);
        return cached;
    }
    if (PyErr_Occurred()) {
        Py_DECREF(value);
        return NULL;
    }
    PyObject *resolved = PyObject_CallOneArg(scalars->resolve, value);
    if (resolved != NULL && length <= CACHE_MAX_TEXT && PyDict_GET_SIZE(scalars->cache) < CACHE_MAX_ITEMS) {
        if (PyDict_SetItem(scalars->cache, value, resolved) < 0)
            Py_CLEAR(resolved);
    }
    Py_DECREF(value);
    return resolved;
}

/* Give a finished value to the innermost open collection (or make it the root). Steals `value`.
 * Returns 0, -1 on a Python error, or 1 when the document must go to PyYAML (a collection as a key). */
static int
deliver(Frame *stack, int depth, PyObject **root, PyObject *value, int is_collection)
{
    if (depth == 0) {
        Py_XDECREF(*root);
        *root = value;
        return 0;
    }
    Frame *top = &stack[depth - 1];
    if (PyList_CheckExact(top->container)) {
        int failed = PyList_Append(top->container, value);
        Py_DECREF(value);
        return failed ? -1 : 0;
    }
    if (top->key == NULL) {
        if (is_collection) {
            Py_DECREF(value);
            return 1;
        }
        top->key = value;
        return 0;
    }
    int failed = PyDict_SetItem(top->container, top->key, value);
    Py_CLEAR(top->key);
    Py_DECREF(value);
    return failed ? -1 : 0;
}

static PyObject *
frontmatter_load(PyObject *module, PyObject *args)
{
    (void)module;
    const char *source;
    Py_ssize_t source_len;
    Scalars scalars;
    PyObject *fallback;
    if (!PyArg_ParseTuple(args, "y#s#pOO!Op:load", &source, &source_len, &scalars.resolvable,
                          &scalars.resolvable_len, &scalars.resolve_all, &scalars.resolve,
                          &PyDict_Type, &scalars.cache, &fallback, &scalars.stamps_are_str))
        return NULL;

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return PyErr_NoMemory();
    /* As PyYAML's CParser does for a str: its UTF-8 bytes, the encoding left to libyaml to detect,
     * which takes a leading byte order mark as the BOM (the scanner then skips one more). */
    yaml_parser_set_input_string(&parser, (const unsigned char *)source, (size_t)source_len);

    Frame stack[MAX_DEPTH];
    int depth = 0;
    int documents = 0;
    int outcome = 0;  /* 0 running, 1 done, -1 Python error, 2 fall back */
    PyObject *root = NULL;

    while (outcome == 0) {
        yaml_event_t event;
        if (!yaml_parser_parse(&parser, &event)) {
            outcome = 2;
            break;
        }
        PyObject *value = NULL;
        int is_collection = 0;
        switch (event.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
        case YAML_NO_EVENT:
            break;
        case YAML_STREAM_END_EVENT:
            outcome = documents == 1 ? 1 : 2;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1)
                outcome = 2;
            break;
        case YAML_ALIAS_EVENT:
            outcome = 2;
            break;
        case YAML_SCALAR_EVENT:
            if (event.data.scalar.anchor != NULL || event.data.scalar.tag != NULL) {
                outcome = 2;
                break;
            }
            if (event.data.scalar.plain_implicit)
                value = plain_scalar(&scalars, (const char *)event.data.scalar.value, event.data.scalar.length);
            else  /* quoted, literal or folded: PyYAML's resolver gives these str */
                value = PyUnicode_DecodeUTF8((const char *)event.data.scalar.value,
                                             (Py_ssize_t)event.data.scalar.length, "strict");
            if (value == NULL)
                outcome = -1;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            int mapping = event.type == YAML_MAPPING_START_EVENT;
            const void *anchor = mapping ? (const void *)event.data.mapping_start.anchor
                                         : (const void *)event.data.sequence_start.anchor;
            const void *tag = mapping ? (const void *)event.data.mapping_start.tag
                                      : (const void *)event.data.sequence_start.tag;
            if (anchor != NULL || tag != NULL || depth == MAX_DEPTH) {
                outcome = 2;
                break;
            }
            value = mapping ? PyDict_New() : PyList_New(0);
            if (value == NULL) {
                outcome = -1;
                break;
            }
            is_collection = 1;
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            Py_CLEAR(stack[depth].key);  /* a mapping always ends after a value: NULL already */
            break;
        }
        if (value != NULL) {
            PyObject *container = value;
            int delivered = deliver(stack, depth, &root, value, is_collection);
            if (delivered != 0) {
                outcome = delivered < 0 ? -1 : 2;
            }
            else if (is_collection) {  /* the parent (or `root`) holds it; it stays open until its end */
                stack[depth].container = container;
                stack[depth].key = NULL;
                depth++;
            }
        }
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    while (depth > 0) {
        depth--;
        Py_CLEAR(stack[depth].key);
    }
    if (outcome == 1)
        return root;
    Py_XDECREF(root);
    if (outcome == -1)
        return NULL;
    Py_INCREF(fallback);
    return fallback;
}

static PyMethodDef frontmatter_methods[] = {
    {"load", frontmatter_load, METH_VARARGS,
     "load(source: bytes, resolvable: str, resolve_all: bool, resolve, cache: dict, fallback, stamps_are_str: bool)\n"
     "The value of one YAML document of plain mappings, lists and scalars, or `fallback`."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef frontmatter_module = {
    PyModuleDef_HEAD_INIT, "_frontmatter",
    "Front matter values from libyaml's event stream (see fast_yaml.py).", -1, frontmatter_methods,
};

PyMODINIT_FUNC
PyInit__frontmatter(void)
{
    PyObject *module = PyModule_Create(&frontmatter_module);
    if (module != NULL && (PyModule_AddStringConstant(module, "LIBYAML_VERSION", yaml_get_version_string()) < 0
                           || PyModule_AddIntConstant(module, "INTERFACE", FRONTMATTER_INTERFACE) < 0))
        Py_CLEAR(module);
    return module;
}
