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
 *
 * Before libyaml, a quicker path (`quick_load`) reads the shape nearly every article has: block
 * mappings and sequences, keys of letters, digits and underscores, one-line plain scalars, one-line
 * double-quoted scalars whose only escapes are \" and \\, and `[]` and `{}`. libyaml spends ~130
 * instructions a byte decoding and scanning its input, ~85% of a file's load; this path reads each
 * line once. It builds a document only when every line is in that shape, and otherwise gives up before
 * anything is returned, leaving the document to libyaml's path above: a comment, a tab, a carriage return, a
 * character YAML reads as a line break, a flow collection, a block scalar, an anchor, alias or tag,
 * single quotes, a plain scalar that a ': ' or ' #' would end or that goes on to the next line, any
 * indentation it does not expect, trailing spaces. Keys and plain scalars go through `plain_scalar`,
 * as libyaml's plain scalar events do, so their types are resolved exactly as there.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

/* What `load` takes, as fast_yaml.py expects it: a build left from an older checkout is not used. */
#define FRONTMATTER_INTERFACE 6
#define MAX_DEPTH 64
#define CACHE_MAX_TEXT 40   /* only texts this short are cached: dates and URLs would only fill it */
#define CACHE_MAX_ITEMS 8192
/* Which paths `load` may take (its last argument) */
#define QUICK_THEN_LIBYAML 0
#define LIBYAML_ONLY 1
#define QUICK_ONLY 2

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
    int stamps_are_str;      /* a text that starts `2026-` is a timestamp or no match: either way its str */
} Scalars;

/* Whether `text` starts as a date does, four ASCII digits and a '-' (`2026-05-31T23:59:00Z`,
 * `2026-05-30 10:00:00`, `2026-05-30T10:00:00.123+02:00`, and every other form the articles give). Of
 * PyYAML's standard resolvers only the three for a digit could take such a text, and its int and float
 * patterns match none with a '-' after the first digits: the text is a timestamp or no match, and both
 * give it as a str when the loader reads timestamps as str. fast_yaml.py says whether the loader's
 * resolvers are those and its timestamp constructor is PyYAML's str one (`stamps_are_str`). Such a text
 * is then itself: no call to `resolve` (~5 µs, once a file: related articles' dates come in many
 * forms), and no room taken in `cache` by values that never repeat. */
static int
dated(const char *text, size_t length)
{
    if (length < 5 || text[4] != '-')
        return 0;
    for (size_t i = 0; i < 4; i++) {
        if (text[i] < '0' || text[i] > '9')
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
    if (scalars->stamps_are_str && dated(text, length))
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

/* -- the quick path ------------------------------------------------------------------------------ */

typedef struct {
    const char *start;  /* the line's content, after its indentation */
    const char *end;    /* before its '\n' */
    int indent;
} Line;

typedef struct {
    const Scalars *scalars;
    Line *lines;
    Py_ssize_t count;
    Py_ssize_t at;       /* the next line to read */
} Quick;

/* Returned by the quick path's readers: a value (new reference), NULL with a Python error, or
 * `GIVE_UP` for a document in any other shape. */
static PyObject GIVE_UP_OBJECT;
#define GIVE_UP (&GIVE_UP_OBJECT)

/* Whether the bytes hold only characters the quick path reads as libyaml does: none that libyaml
 * refuses (C0 and C1 controls, DEL, U+FFFE and U+FFFF; a tab and a carriage return are allowed there
 * but read in ways this path does not follow), none that YAML 1.1 reads as a line break (NEL, which
 * is C2 85, U+2028 and U+2029) and no byte order mark. A file's bytes have passed utf8_is_clean, but a
 * str source from Python has not. */
static int
quick_bytes(const unsigned char *text, Py_ssize_t length)
{
    for (Py_ssize_t i = 0; i < length; i++) {
        unsigned char c = text[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\n') || c == 0x7F)
                return 0;
            continue;
        }
        unsigned char next = i + 1 < length ? text[i + 1] : 0, last = i + 2 < length ? text[i + 2] : 0;
        if (c == 0xC2 && next <= 0x9F)
            return 0;
        if (c == 0xE2 && next == 0x80 && (last == 0xA8 || last == 0xA9))
            return 0;
        if (c == 0xEF && ((next == 0xBB && last == 0xBF) || (next == 0xBF && last >= 0xBE)))
            return 0;
    }
    return 1;
}

static int
key_character(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The length of the key a content starts with (`name:` then a space or the end of the line), or 0. */
static Py_ssize_t
key_length(const char *start, const char *end)
{
    const char *at = start;
    while (at < end && key_character(*at) && at - start < 100)
        at++;
    if (at == start || at >= end || *at != ':')
        return 0;
    if (at + 1 < end && at[1] != ' ')
        return 0;
    return at - start;
}

/* A scalar that takes the rest of its line: plain or double-quoted, or GIVE_UP. */
static PyObject *
quick_scalar(const Quick *quick, const char *start, const char *end)
{
    if (start == end)
        return plain_scalar(quick->scalars, start, 0);
    if (end - start == 2 && (memcmp(start, "[]", 2) == 0 || memcmp(start, "{}", 2) == 0))
        return *start == '[' ? PyList_New(0) : PyDict_New();  /* `images: []`: the one flow collection here */
    if (*start == '"') {
        if (end - start < 2 || end[-1] != '"')
            return GIVE_UP;
        const char *inner = start + 1, *stop = end - 1;
        const char *slash = memchr(inner, '\\', (size_t)(stop - inner));
        const char *quote = memchr(inner, '"', (size_t)(stop - inner));
        if (slash == NULL)  /* the usual title: no escape, so no quote inside either */
            return quote == NULL ? PyUnicode_DecodeUTF8(inner, stop - inner, "strict") : GIVE_UP;
        char *plain = PyMem_Malloc((size_t)(stop - inner));
        if (plain == NULL)
            return PyErr_NoMemory();
        Py_ssize_t length = 0;
        for (const char *at = inner; at < stop; at++) {
            if (*at == '\\') {
                /* \" and \\ only; the closing quote is end[-1], so an escape cannot run past it */
                if (at + 1 >= stop || (at[1] != '"' && at[1] != '\\')) {
                    PyMem_Free(plain);
                    return GIVE_UP;
                }
                plain[length++] = *++at;
            }
            else if (*at == '"') {  /* a quote that closes early: more follows on the line */
                PyMem_Free(plain);
                return GIVE_UP;
            }
            else
                plain[length++] = *at;
        }
        PyObject *value = PyUnicode_DecodeUTF8(plain, length, "strict");
        PyMem_Free(plain);
        return value;
    }
    /* A plain scalar may not start with an indicator (a '-' is one only before a space), and ends
     * at ': ' or ' #' or a ':' at the end of the line, where YAML would read more than a scalar. */
    if (strchr("?:,[]{}#&*!|>'\"%@`", *start) != NULL || (*start == '-' && (end - start == 1 || start[1] == ' ')))
        return GIVE_UP;
    if (end[-1] == ':')
        return GIVE_UP;
    for (const char *at = start; at + 1 < end; at++) {
        if ((at[0] == ':' && at[1] == ' ') || (at[0] == ' ' && at[1] == '#'))
            return GIVE_UP;
    }
    return plain_scalar(quick->scalars, start, (size_t)(end - start));
}

static PyObject *quick_node(Quick *quick, int parent_indent);

/* A scalar ends its line: the next line may not be indented further (a plain scalar going on, or
 * an error), so the value is whole. */
static int
quick_scalar_ends(const Quick *quick, int indent)
{
    return quick->at >= quick->count || quick->lines[quick->at].indent <= indent;
}

static PyObject *
quick_mapping(Quick *quick, int indent)
{
    PyObject *mapping = PyDict_New();
    if (mapping == NULL)
        return NULL;
    while (quick->at < quick->count && quick->lines[quick->at].indent == indent) {
        Line *line = &quick->lines[quick->at];
        Py_ssize_t length = key_length(line->start, line->end);
        if (length == 0)
            goto give_up;
        PyObject *key = plain_scalar(quick->scalars, line->start, (size_t)length);
        if (key == NULL)
            goto failed;
        const char *rest = line->start + length + 1;
        while (rest < line->end && *rest == ' ')
            rest++;
        quick->at++;
        PyObject *value;
        if (rest < line->end) {
            value = quick_scalar(quick, rest, line->end);
            if (value != NULL && value != GIVE_UP && !quick_scalar_ends(quick, indent)) {
                Py_DECREF(value);
                value = GIVE_UP;
            }
        }
        else if (quick->at < quick->count && quick->lines[quick->at].indent > indent)
            value = quick_node(quick, indent);
        else if (quick->at < quick->count && quick->lines[quick->at].indent == indent
                 && *quick->lines[quick->at].start == '-')
            value = GIVE_UP;  /* a sequence at the key's own indentation: left to libyaml */
        else
            value = plain_scalar(quick->scalars, rest, 0);  /* nothing: what an empty scalar resolves to */
        if (value == NULL || value == GIVE_UP) {
            Py_DECREF(key);
            if (value == NULL)
                goto failed;
            goto give_up;
        }
        int stored = PyDict_SetItem(mapping, key, value);  /* a repeated key: the last value wins */
        Py_DECREF(key);
        Py_DECREF(value);
        if (stored < 0)
            goto failed;
    }
    return mapping;
give_up:
    Py_DECREF(mapping);
    return GIVE_UP;
failed:
    Py_DECREF(mapping);
    return NULL;
}

static PyObject *
quick_sequence(Quick *quick, int indent)
{
    PyObject *sequence = PyList_New(0);
    if (sequence == NULL)
        return NULL;
    while (quick->at < quick->count && quick->lines[quick->at].indent == indent) {
        Line *line = &quick->lines[quick->at];
        if (line->end - line->start < 3 || line->start[0] != '-' || line->start[1] != ' ' || line->start[2] == ' ')
            goto give_up;
        PyObject *item;
        if (key_length(line->start + 2, line->end) > 0) {
            /* `- key: value` opens a mapping whose keys stand two columns in: read the rest of
             * this line as its first line */
            line->start += 2;
            line->indent += 2;
            item = quick_mapping(quick, indent + 2);
        }
        else {
            quick->at++;
            item = quick_scalar(quick, line->start + 2, line->end);
            if (item != NULL && item != GIVE_UP && !quick_scalar_ends(quick, indent)) {
                Py_DECREF(item);
                item = GIVE_UP;
            }
        }
        if (item == NULL || item == GIVE_UP) {
            if (item == NULL)
                goto failed;
            goto give_up;
        }
        int appended = PyList_Append(sequence, item);
        Py_DECREF(item);
        if (appended < 0)
            goto failed;
    }
    return sequence;
give_up:
    Py_DECREF(sequence);
    return GIVE_UP;
failed:
    Py_DECREF(sequence);
    return NULL;
}

/* The block that starts on the next line, indented further than its parent's; it must end where
 * a line comes back to the parent's indentation exactly, or to a level further out. */
static PyObject *
quick_node(Quick *quick, int parent_indent)
{
    static int depth = 0;  /* the GIL makes this safe; bounded as libyaml's path is */
    const Line *line = &quick->lines[quick->at];
    int indent = line->indent;
    if (depth >= MAX_DEPTH)
        return GIVE_UP;
    depth++;
    PyObject *value = *line->start == '-' ? quick_sequence(quick, indent) : quick_mapping(quick, indent);
    depth--;
    if (value != NULL && value != GIVE_UP && quick->at < quick->count && quick->lines[quick->at].indent > parent_indent) {
        Py_DECREF(value);  /* a line between this block's indentation and its parent's */
        return GIVE_UP;
    }
    return value;
}

/* The document as the quick path reads it: a new reference, NULL with a Python error, or GIVE_UP. */
static PyObject *
quick_load(const Scalars *scalars, const char *source, Py_ssize_t length)
{
    if (!quick_bytes((const unsigned char *)source, length))
        return GIVE_UP;
    Py_ssize_t room = 16;
    for (const char *at = source; (at = memchr(at, '\n', (size_t)(source + length - at))) != NULL; at++)
        room++;
    Line *lines = PyMem_Malloc((size_t)room * sizeof(Line));
    if (lines == NULL)
        return PyErr_NoMemory();
    Py_ssize_t count = 0;
    const char *at = source, *stop = source + length;
    while (at < stop) {
        const char *newline = memchr(at, '\n', (size_t)(stop - at));
        const char *end = newline != NULL ? newline : stop;
        const char *content = at;
        while (content < end && *content == ' ')
            content++;
        if (content < end) {  /* a line of spaces only is a blank line */
            if (end[-1] == ' ' || *content == '#' || content - at > 1000) {
                PyMem_Free(lines);
                return GIVE_UP;
            }
            lines[count].start = content;
            lines[count].end = end;
            lines[count].indent = (int)(content - at);
            count++;
        }
        at = end + 1;
    }
    PyObject *value = GIVE_UP;
    if (count > 0 && lines[0].indent == 0 && *lines[0].start != '-') {
        Quick quick = {scalars, lines, count, 0};
        value = quick_mapping(&quick, 0);
        if (value != NULL && value != GIVE_UP && quick.at != count) {
            Py_DECREF(value);
            value = GIVE_UP;
        }
    }
    PyMem_Free(lines);
    return value;
}

static PyObject *
frontmatter_load(PyObject *module, PyObject *args)
{
    (void)module;
    const char *source;
    Py_ssize_t source_len;
    Scalars scalars;
    PyObject *fallback;
    int paths;  /* QUICK_THEN_LIBYAML; LIBYAML_ONLY or QUICK_ONLY to compare the two (tests, bench) */
    if (!PyArg_ParseTuple(args, "y#s#pOO!Opi:load", &source, &source_len, &scalars.resolvable,
                          &scalars.resolvable_len, &scalars.resolve_all, &scalars.resolve,
                          &PyDict_Type, &scalars.cache, &fallback, &scalars.stamps_are_str, &paths))
        return NULL;
    if (paths != LIBYAML_ONLY) {
        PyObject *value = quick_load(&scalars, source, source_len);
        if (value != GIVE_UP)
            return value;
        if (paths == QUICK_ONLY) {
            Py_INCREF(fallback);
            return fallback;
        }
    }

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

/* -- plain text ------------------------------------------------------------------------------------ */

/* Whether a file's bytes are what article_file.decode takes without a word, as UTF-8: something other
 * than ASCII whitespace, no UTF-16 byte order mark at the start, no NUL, and valid UTF-8 as Python's
 * strict decoder reads it (no overlong forms, no surrogates, nothing past U+10FFFF, no sequence cut
 * short). decode then had only to build a str nobody reads (~4 us a file); any other file goes to it,
 * for its reason or its text. Runs of ASCII are checked eight bytes at a time. */
static int
utf8_plain_text(const unsigned char *s, Py_ssize_t n)
{
    if (n >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))
        return 0;
    int seen_text = 0;
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c == 0)
                return 0;
            if (!seen_text && !(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == 0x0C))
                seen_text = 1;
            i++;
            if (seen_text) {
                while (i + 8 <= n) {  /* no high bit and no zero byte among the next eight */
                    uint64_t word;
                    memcpy(&word, s + i, 8);
                    if ((word & 0x8080808080808080ULL)
                        || ((word - 0x0101010101010101ULL) & ~word & 0x8080808080808080ULL))
                        break;
                    i += 8;
                }
            }
            continue;
        }
        seen_text = 1;
        if (c < 0xC2 || c > 0xF4)  /* a continuation byte, an overlong lead (C0, C1), or past U+10FFFF */
            return 0;
        Py_ssize_t need = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
        if (i + need >= n)  /* cut short by the end */
            return 0;
        for (Py_ssize_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        }
        unsigned char next = s[i + 1];
        if ((c == 0xE0 && next < 0xA0) || (c == 0xED && next > 0x9F)  /* overlong; a surrogate */
            || (c == 0xF0 && next < 0x90) || (c == 0xF4 && next > 0x8F))  /* overlong; past U+10FFFF */
            return 0;
        i += need + 1;
    }
    return seen_text;
}

static PyObject *
frontmatter_plain_text(PyObject *module, PyObject *data)
{
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "plain_text takes bytes");
        return NULL;
    }
    return PyBool_FromLong(utf8_plain_text((const unsigned char *)PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data)));
}

/* Where a fence line's tail ends: past `[ \t]*\r?` from `i`, the part both fences share. */
static Py_ssize_t
past_blanks(const char *s, Py_ssize_t n, Py_ssize_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < n && s[i] == '\r')
        i++;
    return i;
}

/* Whether the line at `p` closes the front matter: article_file.py's `_CLOSE`,
 * `^(?:---|\.\.\.)[ \t]*\r?$` in MULTILINE mode, where `$` is the end of the data or a '\n'. */
static int
closes(const char *s, Py_ssize_t n, Py_ssize_t p)
{
    if (n - p < 3 || (memcmp(s + p, "---", 3) != 0 && memcmp(s + p, "...", 3) != 0))
        return 0;
    Py_ssize_t end = past_blanks(s, n, p + 3);
    return end == n || s[end] == '\n';
}

/* The front matter of a file's bytes, as article_file.py cuts it: after the opening fence (`_FENCE`,
 * `^---[ \t]*\r?\n` at the very start) and before the first line from there on that closes it; None
 * when either is missing (the text path then says why). One pass with memchr from line to line, where
 * the regex and two finds in Python took ~7 us a file. */
static PyObject *
frontmatter_front_matter(PyObject *module, PyObject *data)
{
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "front_matter takes bytes");
        return NULL;
    }
    const char *s = PyBytes_AS_STRING(data);
    Py_ssize_t n = PyBytes_GET_SIZE(data);
    if (n < 4 || memcmp(s, "---", 3) != 0)
        Py_RETURN_NONE;
    Py_ssize_t start = past_blanks(s, n, 3);
    if (start >= n || s[start] != '\n')
        Py_RETURN_NONE;
    start++;
    for (Py_ssize_t p = start; p <= n;) {
        if (closes(s, n, p))
            return PyBytes_FromStringAndSize(s + start, p - start);
        const char *newline = memchr(s + p, '\n', (size_t)(n - p));
        if (newline == NULL)
            break;
        p = newline - s + 1;
    }
    Py_RETURN_NONE;
}

static PyMethodDef frontmatter_methods[] = {
    {"load", frontmatter_load, METH_VARARGS,
     "load(source: bytes, resolvable: str, resolve_all: bool, resolve, cache: dict, fallback, stamps_are_str: bool,\n"
     "     paths: int)\n"
     "The value of one YAML document of plain mappings, lists and scalars, or `fallback`."},
    {"plain_text", frontmatter_plain_text, METH_O,
     "plain_text(data: bytes) -> bool\n"
     "Whether the bytes are text article_file.decode takes as UTF-8 without a word (see there)."},
    {"front_matter", frontmatter_front_matter, METH_O,
     "front_matter(data: bytes) -> bytes | None\n"
     "The bytes between the file's opening fence and the line that closes it; None without both."},
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
                           || PyModule_AddIntConstant(module, "INTERFACE", FRONTMATTER_INTERFACE) < 0
                           || PyModule_AddIntConstant(module, "QUICK_THEN_LIBYAML", QUICK_THEN_LIBYAML) < 0
                           || PyModule_AddIntConstant(module, "LIBYAML_ONLY", LIBYAML_ONLY) < 0
                           || PyModule_AddIntConstant(module, "QUICK_ONLY", QUICK_ONLY) < 0))
        Py_CLEAR(module);
    return module;
}
