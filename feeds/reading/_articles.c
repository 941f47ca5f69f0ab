/* The usual article, built in C: front matter (the dict the YAML reader gave) to the plain values
 * the parse cache stores (stores.packing.article_values) and the warnings, as reading/article_file.py's
 * `_article_from` would give them. Optional: built by setup.py where a C compiler is (no library is
 * needed); without it, or switched off (FEEDPUB_ACCELERATORS=0), every file takes the Python path.
 *
 * Only the common case is built here, each field through the fast path its Python function takes
 * first (text already clean, a plain URL, a date in one of the ISO 8601 forms, a plain domain). Any
 * value off that path (an entity, a long text, an odd URL or date, a string where a number belongs,
 * a bad file) gives None: "not mine", and the Python path reads the whole file, so that every
 * reason, warning and cleaning rule stays in one place, in Python. tests/reading/test_fast_article.py
 * proves that whatever is built here equals what the Python path gives.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

#define INTERFACE 1

/* Set by configure(): the limits of article_file.py and text.py, and the two Python helpers. */
static Py_ssize_t title_limit, summary_limit, name_limit, max_topics, max_related;
static PyObject *topic_key;      /* catalog.topics.topic_key */
static PyObject *is_nfc;         /* unicodedata.is_normalized("NFC", ·) for non-ASCII text */
static PyObject *topic_keys;     /* name -> key, bounded */
static PyObject *empty, *warn_excerpt, *warn_image, *warn_topics, *unknown;

#define TOPIC_KEYS_MAX 20000

/* -- text ---------------------------------------------------------------------------------- */

/* Whether the n characters at `data` (of one width) are printable (str.isprintable), with no '&' and
 * no two spaces in a row: one pass, the width known outside the loop. */
#define printable_plain(type, data, n) printable_plain_##type((const type *)(data), (n))
#define PRINTABLE_PLAIN(type)                                                  \
    static int printable_plain_##type(const type *p, Py_ssize_t n)             \
    {                                                                          \
        int space = 0;                                                         \
        for (Py_ssize_t i = 0; i < n; i++) {                                   \
            Py_UCS4 ch = p[i];                                                 \
            if (ch > ' ' && ch < 0x7f) {                                       \
                if (ch == '&')                                                 \
                    return 0;                                                  \
                space = 0;                                                     \
            } else if (ch == ' ') {                                            \
                if (space)                                                     \
                    return 0;                                                  \
                space = 1;                                                     \
            } else if (ch < 0x80 || !Py_UNICODE_ISPRINTABLE(ch)) {             \
                return 0;                                                      \
            } else {                                                           \
                space = 0;                                                     \
            }                                                                  \
        }                                                                      \
        return 1;                                                              \
    }
PRINTABLE_PLAIN(Py_UCS1)
PRINTABLE_PLAIN(Py_UCS2)
PRINTABLE_PLAIN(Py_UCS4)

/* clean_text(value, limit) where `_already_clean` holds: 1 and a new reference in *out; 0 when the
 * value is off the fast path (the caller gives up); -1 on an error. Not a str gives "". */
static int clean(PyObject *value, Py_ssize_t limit, PyObject **out)
{
    if (value == NULL || !PyUnicode_Check(value)) {
        Py_INCREF(empty);
        *out = empty;
        return 1;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(value);
    if (n > limit)
        return 0;
    if (n == 0) {
        Py_INCREF(value);
        *out = value;
        return 1;
    }
    int kind = PyUnicode_KIND(value);
    const void *data = PyUnicode_DATA(value);
    if (PyUnicode_READ(kind, data, 0) == ' ' || PyUnicode_READ(kind, data, n - 1) == ' ')
        return 0;
    int clean_so_far = kind == PyUnicode_1BYTE_KIND   ? printable_plain(Py_UCS1, data, n)
                       : kind == PyUnicode_2BYTE_KIND ? printable_plain(Py_UCS2, data, n)
                                                      : printable_plain(Py_UCS4, data, n);
    if (!clean_so_far)
        return 0;
    /* Every character up to U+00FF is its own NFC (none composes or is a combining mark): only wider
     * text needs the check (test_fast_article.py proves the first part for all 256). */
    if (kind != PyUnicode_1BYTE_KIND) {
        PyObject *normal = PyObject_CallOneArg(is_nfc, value);
        if (normal == NULL)
            return -1;
        int yes = PyObject_IsTrue(normal);
        Py_DECREF(normal);
        if (yes <= 0)
            return yes;
    }
    Py_INCREF(value);
    *out = value;
    return 1;
}

/* -- URLs ---------------------------------------------------------------------------------- */

static int in_path(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("-._~!$&'()*+,;=:@%/", c) != NULL);
}

static int label_char(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* Whether `value` is a str text.py's _PLAIN_URL fully matches (and no longer than 2048): such a URL
 * is clean_url's result as it is. Its host is given too, when `host` is not NULL (for a provider
 * known only by its link). */
static int plain_url(PyObject *value, const char **host, Py_ssize_t *host_length)
{
    if (value == NULL || !PyUnicode_Check(value) || !PyUnicode_IS_ASCII(value))
        return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(value);
    if (n > 2048)
        return 0;
    const char *s = (const char *)PyUnicode_DATA(value);
    Py_ssize_t i;
    if (n >= 7 && memcmp(s, "http://", 7) == 0)
        i = 7;
    else if (n >= 8 && memcmp(s, "https://", 8) == 0)
        i = 8;
    else
        return 0;
    /* The host: labels of [a-z0-9-], each starting and ending with a letter or digit, then '/'. */
    Py_ssize_t start = i, label = i;
    for (;; i++) {
        if (i == n)
            return 0;
        unsigned char c = (unsigned char)s[i];
        if (c == '.' || c == '/') {
            if (i == label || !label_char((unsigned char)s[label]) || !label_char((unsigned char)s[i - 1]))
                return 0;
            if (c == '/')
                break;
            label = i + 1;
        } else if (!label_char(c) && c != '-') {
            return 0;
        }
    }
    if (host != NULL) {
        *host = s + start;
        *host_length = i - start;
    }
    for (; i < n && in_path((unsigned char)s[i]); i++)
        ;
    if (i == n)
        return 1;
    if (s[i] != '?' || i + 1 == n)
        return 0;
    for (i++; i < n; i++)
        if (!in_path((unsigned char)s[i]) && s[i] != '?')
            return 0;
    return 1;
}

/* domain_key of ASCII text made only of letters, digits, '.', '-' and '_': 1 with a new reference in
 * *out (None when it is no domain, as domain_key says then); 0 for any other text. */
static int domain_of(const char *s, Py_ssize_t n, PyObject **out)
{
    char buffer[256];
    if (n > 255)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        else if (!label_char(c) && c != '.' && c != '-' && c != '_')
            return 0;
        buffer[i] = (char)c;
    }
    while (n > 0 && buffer[n - 1] == '.')
        n--;
    const char *d = buffer;
    if (n >= 4 && memcmp(d, "www.", 4) == 0) {
        d += 4;
        n -= 4;
    }
    /* [a-z0-9][a-z0-9\-_]{0,62}(?:\.[a-z0-9\-_]{1,63})+, at most 253 characters */
    int ok = n > 0 && n <= 253 && label_char((unsigned char)d[0]);
    Py_ssize_t dots = 0, run = 0;
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        if (d[i] == '.') {
            ok = run > 0;
            dots++;
            run = 0;
        } else if (++run > 63) {
            ok = 0;
        }
    }
    ok = ok && dots > 0 && run > 0;
    if (!ok) {
        Py_INCREF(Py_None);
        *out = Py_None;
        return 1;
    }
    *out = PyUnicode_FromStringAndSize(d, n);
    return *out == NULL ? -1 : 1;
}

/* domain_key(value) for a str of domain characters, None for what is not a str; 0 otherwise. */
static int domain_key(PyObject *value, PyObject **out)
{
    if (value == NULL || !PyUnicode_Check(value)) {
        Py_INCREF(Py_None);
        *out = Py_None;
        return 1;
    }
    if (!PyUnicode_IS_ASCII(value))
        return 0;
    return domain_of((const char *)PyUnicode_DATA(value), PyUnicode_GET_LENGTH(value), out);
}

/* -- dates --------------------------------------------------------------------------------- */

static int digits(const char *s, int count, int *out)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        value = value * 10 + (s[i] - '0');
    }
    *out = value;
    return 1;
}

static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : days[m - 1];
}

/* parse_date(value) as microseconds since 1970 for the forms nearly every file has:
 * YYYY-MM-DD, or that and [T ]HH:MM:SS, an optional fraction of 1-6 digits, and Z, +HH:MM, -HH:MM or
 * no zone (UTC). 1 when read, 0 for anything else (the caller gives up). */
static int date_micros(PyObject *value, long long *out)
{
    if (value == NULL || !PyUnicode_Check(value) || !PyUnicode_IS_ASCII(value))
        return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(value);
    const char *s = (const char *)PyUnicode_DATA(value);
    int y, mo, d, h = 0, mi = 0, se = 0, offset = 0;
    if (n < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return 0;
    Py_ssize_t i = 10;
    if (n > 10) {
        if (n < 19 || (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2, &h) || s[13] != ':' ||
            !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
            return 0;
        i = 19;
        if (i < n && s[i] == '.') {
            Py_ssize_t first = ++i;
            while (i < n && s[i] >= '0' && s[i] <= '9')
                i++;
            if (i == first || i - first > 6)
                return 0;
        }
        if (i < n && s[i] == 'Z' && s[10] == 'T') {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int oh, om;
            if (n - i != 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || !digits(s + i + 4, 2, &om) ||
                oh > 23 || om > 59)
                return 0;
            offset = (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
            i += 6;
        }
        if (i != n)
            return 0;
    }
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        se > 59)
        return 0;
    long long seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
    /* The year 1970-9999 in UTC, as parse_date requires; near either end the Python path decides. */
    if (seconds < 86400 || seconds >= days_from_civil(9999, 12, 31) * 86400)
        return 0;
    *out = seconds * 1000000;
    return 1;
}

/* -- fields -------------------------------------------------------------------------------- */

static PyObject *get(PyObject *mapping, const char *key)
{
    return PyDict_CheckExact(mapping) ? PyDict_GetItemString(mapping, key) : NULL; /* borrowed */
}

/* _dimension: an int (not a bool) between 1 and 99,999, else None. New reference. */
static PyObject *dimension(PyObject *value)
{
    if (value != NULL && PyLong_CheckExact(value)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (!overflow && v > 0 && v < 100000) {
            Py_INCREF(value);
            return value;
        }
        PyErr_Clear();
    }
    Py_RETURN_NONE;
}

/* _number: None for a missing or empty value, a float for an int or finite float; 0 otherwise. */
static int number(PyObject *value, PyObject **out)
{
    if (value == NULL || value == Py_None || (PyUnicode_Check(value) && PyUnicode_GET_LENGTH(value) == 0)) {
        Py_INCREF(Py_None);
        *out = Py_None;
        return 1;
    }
    double v;
    if (PyFloat_CheckExact(value)) {
        v = PyFloat_AS_DOUBLE(value);
    } else if (PyLong_CheckExact(value)) {
        v = PyLong_AsDouble(value);
        if (v == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
    } else {
        return 0;
    }
    if (!isfinite(v))
        return 0;
    *out = PyFloat_FromDouble(v);
    return *out == NULL ? -1 : 1;
}

/* A mapping as the YAML reader builds it: 1 for a plain dict, 0 for what is no mapping, -1 for a
 * dict of another kind (never built by the reader; the Python path takes it). */
static int mapping(PyObject *value)
{
    return value == NULL ? 0 : PyDict_CheckExact(value) ? 1 : PyDict_Check(value) ? -1 : 0;
}

/* The items of a field that holds one value or a list of them, as `[value] if isinstance(value, str)
 * (or dict, with `dict_is_one`) else value if isinstance(value, list) else []` makes them for a
 * missing value, one value or a list (borrowed, in *list, *count long; *single holds the one value).
 * 0 for any other kind of value: the caller gives up. */
static int items_of(PyObject *value, int dict_is_one, PyObject **single, PyObject ***list, Py_ssize_t *count)
{
    *single = value;
    *list = single;
    *count = 0;
    if (value == NULL || value == Py_None)
        return 1;
    if (PyUnicode_Check(value) || (dict_is_one && PyDict_CheckExact(value))) {
        *count = 1;
        return 1;
    }
    if (PyList_CheckExact(value)) {
        *list = PySequence_Fast_ITEMS(value);
        *count = PyList_GET_SIZE(value);
        return 1;
    }
    return 0;
}

/* _image: the first item with a usable URL, as (url, width, height); None when none has one. */
static int image(PyObject *value, PyObject **out)
{
    PyObject *single, **list;
    Py_ssize_t count;
    if (!items_of(value, 1, &single, &list, &count))
        return 0;
    for (Py_ssize_t i = 0; i < count && i < 20; i++) {
        PyObject *item = list[i];
        int is_mapping = mapping(item);
        if (is_mapping < 0)
            return 0;
        PyObject *raw = is_mapping ? get(item, "url") : item;
        if (raw == NULL || !PyUnicode_Check(raw))
            continue; /* clean_url of what is not a str is None */
        if (!plain_url(raw, NULL, NULL))
            return 0;
        PyObject *width = dimension(is_mapping ? get(item, "width") : NULL);
        PyObject *height = dimension(is_mapping ? get(item, "height") : NULL);
        *out = PyTuple_Pack(3, raw, width, height);
        Py_DECREF(width);
        Py_DECREF(height);
        return *out == NULL ? -1 : 1;
    }
    Py_INCREF(Py_None);
    *out = Py_None;
    return 1;
}

static PyObject *key_of(PyObject *name)
{
    PyObject *key = PyDict_GetItemWithError(topic_keys, name);
    if (key != NULL) {
        Py_INCREF(key);
        return key;
    }
    if (PyErr_Occurred())
        return NULL;
    key = PyObject_CallOneArg(topic_key, name);
    if (key != NULL && PyDict_GET_SIZE(topic_keys) < TOPIC_KEYS_MAX && PyDict_SetItem(topic_keys, name, key) < 0) {
        Py_DECREF(key);
        return NULL;
    }
    return key;
}

/* _topics: str items, cleaned, free of '<' (no tag to take out), one per topic_key. */
static int topics(PyObject *value, PyObject **out)
{
    PyObject *single, **list;
    Py_ssize_t count;
    if (!items_of(value, 0, &single, &list, &count))
        return 0;
    PyObject *seen = PyDict_New();
    if (seen == NULL)
        return -1;
    int result = 1;
    for (Py_ssize_t i = 0; i < count && i < max_topics * 2; i++) {
        PyObject *item = list[i], *name = NULL;
        if (PyBool_Check(item) || (!PyUnicode_Check(item) && !PyLong_Check(item) && !PyFloat_Check(item)))
            continue;
        if (!PyUnicode_CheckExact(item) || PyUnicode_FindChar(item, '<', 0, PyUnicode_GET_LENGTH(item), 1) != -1) {
            result = 0;
            break;
        }
        result = clean(item, name_limit, &name);
        if (result <= 0)
            break;
        if (PyUnicode_GET_LENGTH(name) > 0) {
            PyObject *key = key_of(name);
            if (key == NULL || (PyDict_GetItemWithError(seen, key) == NULL &&
                                (PyErr_Occurred() || PyDict_SetItem(seen, key, name) < 0))) {
                Py_XDECREF(key);
                Py_DECREF(name);
                result = -1;
                break;
            }
            Py_DECREF(key);
        }
        Py_DECREF(name);
    }
    if (result == 1) {
        PyObject *names = PyDict_Values(seen);
        if (names != NULL && PyList_GET_SIZE(names) > max_topics && PyList_SetSlice(names, max_topics, PyList_GET_SIZE(names), NULL) < 0)
            Py_CLEAR(names);
        *out = names == NULL ? NULL : PyList_AsTuple(names);
        Py_XDECREF(names);
        if (*out == NULL)
            result = -1;
    }
    Py_DECREF(seen);
    return result;
}

/* _provider: a mapping with a clean name and a plain domain (or a plain link to take it from). The
 * name and domain are set only when it gives 1. */
static int provider(PyObject *value, const char *host, Py_ssize_t host_length, PyObject **name_out,
                    PyObject **domain_out)
{
    PyObject *name = NULL, *domain = NULL;
    if (mapping(value) != 1)
        return 0;
    int done = clean(get(value, "name"), name_limit, &name);
    if (done <= 0)
        return done;
    done = domain_key(get(value, "domain"), &domain);
    if (done == 1 && domain == Py_None) {
        Py_CLEAR(domain);
        done = domain_of(host, host_length, &domain);
        if (done == 1 && domain == Py_None) {
            Py_DECREF(domain);
            Py_INCREF(unknown);
            domain = unknown;
        }
    }
    if (done <= 0) {
        Py_DECREF(name);
        return done;
    }
    if (PyUnicode_GET_LENGTH(name) == 0) {
        Py_DECREF(name);
        Py_INCREF(domain);
        name = domain;
    }
    *name_out = name;
    *domain_out = domain;
    return 1;
}

/* clean_url(value) where it is a plain URL or not a str (None); 0 for any other str. */
static int url_or_none(PyObject *value, PyObject **out)
{
    if (value == NULL || !PyUnicode_Check(value)) {
        *out = NULL;
        return 1;
    }
    if (!plain_url(value, NULL, NULL))
        return 0;
    *out = value; /* borrowed */
    return 1;
}

/* _related: up to max_related links, each (title, url, provider, micros or None). */
static int related(PyObject *value, PyObject *own_url, PyObject **out)
{
    if (value == NULL || !PyList_CheckExact(value)) {
        *out = PyTuple_New(0);
        return *out == NULL ? -1 : 1;
    }
    PyObject *found = PyList_New(0), *urls = PySet_New(NULL);
    int result = 1;
    if (found == NULL || urls == NULL)
        result = -1;
    Py_ssize_t count = PyList_GET_SIZE(value);
    for (Py_ssize_t i = 0; result == 1 && i < count && i < max_related * 5; i++) {
        PyObject *item = PyList_GET_ITEM(value, i), *title = NULL, *url = NULL, *name = NULL, *when = NULL;
        int is_mapping = mapping(item);
        if (is_mapping <= 0) {
            if (is_mapping < 0)
                result = 0;
            continue;
        }
        result = clean(get(item, "title"), title_limit, &title);
        if (result <= 0)
            break;
        if (PyUnicode_GET_LENGTH(title) == 0) {
            Py_DECREF(title);
            continue;
        }
        result = url_or_none(get(item, "webUrl"), &url);
        if (result == 1 && url == NULL)
            result = url_or_none(get(item, "originalUrl"), &url);
        if (result <= 0 || url == NULL) {
            Py_DECREF(title);
            if (result <= 0)
                break;
            continue;
        }
        int same = PyUnicode_Compare(url, own_url) == 0 ? 1 : PySet_Contains(urls, url);
        if (same != 0) {
            Py_DECREF(title);
            if (same < 0) {
                result = -1;
                break;
            }
            continue;
        }
        PyObject *source = get(item, "provider");
        if (mapping(source) < 0) {
            Py_DECREF(title);
            result = 0;
            break;
        }
        if (mapping(source) == 1) {
            result = clean(get(source, "name"), name_limit, &name);
            if (result == 1 && PyUnicode_GET_LENGTH(name) == 0) {
                Py_DECREF(name);
                result = domain_key(get(source, "domain"), &name);
                if (result == 1 && name == Py_None) {
                    Py_DECREF(name);
                    Py_INCREF(empty);
                    name = empty;
                }
            }
        } else {
            Py_INCREF(empty);
            name = empty;
        }
        if (result <= 0) {
            Py_DECREF(title);
            break;
        }
        PyObject *stamp = get(item, "publishedDateTime");
        long long micros;
        if (stamp == NULL || stamp == Py_None) {
            Py_INCREF(Py_None);
            when = Py_None;
        } else if (date_micros(stamp, &micros)) {
            when = PyLong_FromLongLong(micros);
        } else {
            Py_DECREF(title);
            Py_DECREF(name);
            result = 0;
            break;
        }
        PyObject *link = when == NULL ? NULL : PyTuple_Pack(4, title, url, name, when);
        Py_DECREF(title);
        Py_DECREF(name);
        Py_XDECREF(when);
        if (link == NULL || PyList_Append(found, link) < 0 || PySet_Add(urls, url) < 0) {
            Py_XDECREF(link);
            result = -1;
            break;
        }
        Py_DECREF(link);
        if (PyList_GET_SIZE(found) == max_related)
            break;
    }
    if (result == 1) {
        *out = PyList_AsTuple(found);
        if (*out == NULL)
            result = -1;
    }
    Py_XDECREF(found);
    Py_XDECREF(urls);
    return result;
}

/* -- the article --------------------------------------------------------------------------- */

/* Each step below gives 1 (built), 0 (not the usual kind: the whole file goes to Python) or -1 (an
 * error, raised). */
#define STEP(call)           \
    do {                     \
        int done_ = (call);  \
        if (done_ <= 0) {    \
            failed = done_;  \
            goto give_up;    \
        }                    \
    } while (0)

/* build(front, source) -> (values, warnings), or None when the file is not the usual kind. */
static PyObject *build(PyObject *self, PyObject *args)
{
    PyObject *front, *source;
    if (!PyArg_ParseTuple(args, "O!U", &PyDict_Type, &front, &source))
        return NULL;
    if (topic_key == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    enum { N = 16 };
    PyObject *v[N] = {NULL};
    const char *host = NULL;
    Py_ssize_t host_length = 0;
    long long micros;
    int failed = 0;

    /* What makes a file bad, first: the title, the URL (webUrl, else originalUrl), the date, published. */
    STEP(clean(get(front, "title"), title_limit, &v[1]));
    STEP(PyUnicode_GET_LENGTH(v[1]) > 0);
    PyObject *url = get(front, "webUrl");
    if (url == NULL || url == Py_None)
        url = get(front, "originalUrl");
    STEP(plain_url(url, &host, &host_length));
    Py_INCREF(url);
    v[0] = url;
    STEP(date_micros(get(front, "publishedDateTime"), &micros));
    STEP((v[3] = PyLong_FromLongLong(micros)) == NULL ? -1 : 1);
    PyObject *published = get(front, "published");
    STEP(published == NULL || published == Py_None || published == Py_True || published == Py_False);
    v[13] = published == Py_False ? Py_True : Py_False;
    Py_INCREF(v[13]);

    STEP(clean(get(front, "excerpt"), summary_limit, &v[2]));
    STEP(image(get(front, "images"), &v[7]));
    STEP(topics(get(front, "topics"), &v[6]));
    STEP(number(get(front, "quality"), &v[11]));
    STEP(number(get(front, "heat"), &v[12]));
    STEP(provider(get(front, "provider"), host, host_length, &v[4], &v[5]));
    STEP(related(get(front, "related"), url, &v[8]));
    STEP(clean(get(front, "category"), name_limit, &v[9]));
    STEP(clean(get(front, "type"), name_limit, &v[10]));
    Py_INCREF(source);
    v[14] = source;
    Py_INCREF(Py_None);
    v[15] = Py_None; /* extras: built only without them */

    PyObject *said[3];
    Py_ssize_t count = 0;
    if (PyUnicode_GET_LENGTH(v[2]) == 0)
        said[count++] = warn_excerpt;
    if (v[7] == Py_None)
        said[count++] = warn_image;
    if (PyTuple_GET_SIZE(v[6]) == 0)
        said[count++] = warn_topics;
    PyObject *warnings = PyTuple_New(count), *values = PyTuple_New(N), *result = NULL;
    if (warnings != NULL && values != NULL) {
        for (Py_ssize_t i = 0; i < count; i++) {
            Py_INCREF(said[i]);
            PyTuple_SET_ITEM(warnings, i, said[i]);
        }
        for (int i = 0; i < N; i++) {
            PyTuple_SET_ITEM(values, i, v[i]);
            v[i] = NULL;
        }
        result = PyTuple_Pack(2, values, warnings);
    }
    Py_XDECREF(values);
    Py_XDECREF(warnings);
    for (int i = 0; i < N; i++)
        Py_XDECREF(v[i]);
    return result;

give_up:
    for (int i = 0; i < N; i++)
        Py_XDECREF(v[i]);
    if (failed < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *configure(PyObject *self, PyObject *args)
{
    PyObject *key, *nfc;
    Py_ssize_t limits[5];
    if (!PyArg_ParseTuple(args, "nnnnnOO", &limits[0], &limits[1], &limits[2], &limits[3], &limits[4], &key, &nfc))
        return NULL;
    title_limit = limits[0], summary_limit = limits[1], name_limit = limits[2];
    max_topics = limits[3], max_related = limits[4];
    Py_INCREF(key);
    Py_XSETREF(topic_key, key);
    Py_INCREF(nfc);
    Py_XSETREF(is_nfc, nfc);
    PyDict_Clear(topic_keys);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"build", build, METH_VARARGS, "build(front, source) -> (values, warnings) or None"},
    {"configure", configure, METH_VARARGS,
     "configure(title_limit, summary_limit, name_limit, max_topics, max_related, topic_key, is_nfc)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_articles", NULL, -1, methods};

PyMODINIT_FUNC PyInit__articles(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    empty = PyUnicode_FromString("");
    warn_excerpt = PyUnicode_FromString("empty excerpt");
    warn_image = PyUnicode_FromString("no usable image");
    warn_topics = PyUnicode_FromString("no topics");
    unknown = PyUnicode_FromString("unknown");
    topic_keys = PyDict_New();
    if (!empty || !warn_excerpt || !warn_image || !warn_topics || !unknown || !topic_keys ||
        PyModule_AddIntConstant(m, "INTERFACE", INTERFACE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
