/* Item fragments written in C: an article's RSS <item>, Atom <entry>, JSON Feed item and feed page
 * <li>, byte for byte as the Python writers write them (render/items.py for RSS and Atom, whose bytes
 * are feedgen's; jsonfeed.json_item; feed_pages.page_item). Optional: built by setup.py where a C
 * compiler is; without it, or switched off (FEEDPUB_ACCELERATORS=0), the Python writers write every
 * item.
 *
 * Everything here is escaping and concatenation of values an Article already holds clean, so the
 * work is in the tables below. What is not the usual case gives None for that item ("not mine") and
 * the Python writer writes it: a date before the year 1000 or not in UTC, a provider domain that
 * `urllib.parse.quote` would change, a value of an unexpected type, a text that is not valid UTF-8
 * (a lone surrogate). tests/render/test_fast_items.py proves the bytes equal the Python writers'
 * (and, for RSS and Atom, feedgen's), and the suite-wide item audit checks every item any test
 * renders.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <string.h>

#define INTERFACE 2

enum { RSS, ATOM, JSON, PAGE };

static PyObject *looks_like_markup; /* render.feed.looks_like_markup, for a text with '<' or '&' */
static PyObject *s_url, *s_title, *s_summary, *s_published, *s_provider, *s_topics, *s_image, *s_related,
    *s_name, *s_domain, *s_width, *s_height;

/* -- an output buffer ---------------------------------------------------------------------- */

typedef struct {
    char *data;
    Py_ssize_t len, cap;
    int failed; /* out of memory: the item is not written here */
} Buf;

static int grow(Buf *b, Py_ssize_t more)
{
    if (b->failed)
        return -1;
    if (b->len + more <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more)
        cap *= 2;
    char *data = PyMem_Realloc(b->data, cap);
    if (data == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static void put(Buf *b, const char *s, Py_ssize_t n)
{
    if (grow(b, n) == 0) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
    }
}

#define PUTS(b, literal) put((b), (literal), sizeof(literal) - 1)

/* -- escaping ------------------------------------------------------------------------------ */

/* Each escaping is a table: for an ASCII byte, what replaces it (NULL: itself). Every character
 * escaped is ASCII, so UTF-8 text is escaped byte by byte and non-ASCII passes through. */
typedef const char *Table[128];

/* lxml's text: &, <, > and carriage returns (items.py `_text`). */
static Table XML_TEXT = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['\r'] = "&#13;"};
/* lxml's attribute values: also quotes, newlines and tabs (items.py `_attribute`). */
static Table XML_ATTR = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;",
                         ['\n'] = "&#10;", ['\r'] = "&#13;", ['\t'] = "&#9;"};
/* The RSS profile's plain text (items.py `_plain`): lxml's escapes, then its three entities as hex
 * references; the two steps make exactly this map. */
static Table PLAIN = {['&'] = "&#x26;", ['<'] = "&#x3C;", ['>'] = "&#x3E;", ['\r'] = "&#13;"};
/* Plain text as escaped HTML, escaped once more by lxml (`_text(as_html(text))`). */
static Table DOUBLE = {['&'] = "&amp;amp;", ['<'] = "&amp;lt;", ['>'] = "&amp;gt;", ['\r'] = "&#13;"};
/* html.escape(text, quote=True). */
static Table HTML = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#x27;"};
/* A JSON string as json.dumps(ensure_ascii=False) writes it, then jsonfeed `_html_safe`; the control
 * characters without a short form are filled in at import (`\u00XX`, lowercase, as json writes them). */
static const char *JSON_STRING[128] = {['"'] = "\\\"", ['\\'] = "\\\\", ['\b'] = "\\b", ['\f'] = "\\f",
                                       ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t", ['<'] = "\\u003c",
                                       ['>'] = "\\u003e", ['&'] = "\\u0026"};
static char control_escapes[32][7];

static void put_escaped(Buf *b, const char *s, Py_ssize_t n, const char **table)
{
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *with;
        if (c < 128 && (with = table[c]) != NULL) {
            put(b, s + start, i - start);
            put(b, with, (Py_ssize_t)strlen(with));
            start = i + 1;
        }
    }
    put(b, s + start, n - start);
}

/* -- values of the article ----------------------------------------------------------------- */

typedef struct {
    const char *s;
    Py_ssize_t n;
} Text;

/* A str attribute's UTF-8; 0 when it is missing, not a str or not encodable (the caller gives up). */
static int text_of(PyObject *owner, PyObject *name, Text *out, PyObject **keep)
{
    PyObject *value = PyObject_GetAttr(owner, name);
    if (value == NULL)
        return 0;
    *keep = value; /* the caller releases it once written */
    if (!PyUnicode_CheckExact(value))
        return 0;
    out->s = PyUnicode_AsUTF8AndSize(value, &out->n);
    return out->s != NULL;
}

/* An image dimension: 0 for None or 0 (not printed), else its digits in `digits`; -1 for anything
 * that is not an int (the Python writer decides what to do with it). */
static int dimension_of(PyObject *value, char *digits, size_t size)
{
    if (value == Py_None)
        return 0;
    if (!PyLong_CheckExact(value))
        return -1;
    int overflow;
    long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (number == -1 && PyErr_Occurred()))
        return -1;
    if (number == 0)
        return 0;
    snprintf(digits, size, "%lld", number);
    return 1;
}

static int dimension(PyObject *image, PyObject *name, char *digits, size_t size)
{
    PyObject *value = PyObject_GetAttr(image, name);
    if (value == NULL)
        return -1;
    int result = dimension_of(value, digits, size);
    Py_DECREF(value);
    return result;
}

typedef struct {
    Text url, title, summary, name, domain;
    int has_image;
    Text image_url;
    char width[24], height[24];
    int has_width, has_height;
    PyObject *topics, *related; /* tuples, borrowed from `refs` (or from the values tuple) */
    PyObject *title_obj, *summary_obj; /* the str objects, for looks_like_markup */
    int related_values;                /* related links as value tuples (title, url, provider, date) */
    int year, month, day, hour, minute, second, microsecond, weekday;
    PyObject *refs[16]; /* what the texts' bytes belong to */
    int nrefs;
} Values;

static void release(Values *v)
{
    for (int i = 0; i < v->nrefs; i++)
        Py_XDECREF(v->refs[i]);
    v->nrefs = 0;
}

#define KEEP(v) (&(v)->refs[(v)->nrefs++])

static int days_from_civil(int y, int m, int d) /* days since 1970-01-01, proleptic Gregorian */
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* 1 with every value read; 0 when the article is not the usual kind (the Python writer writes it). */
static int read_values(PyObject *article, Values *v)
{
    PyObject *provider, *published, *image;
    if (!text_of(article, s_url, &v->url, KEEP(v)) || !text_of(article, s_title, &v->title, KEEP(v)))
        return 0;
    v->title_obj = v->refs[v->nrefs - 1];
    if (!text_of(article, s_summary, &v->summary, KEEP(v)))
        return 0;
    v->summary_obj = v->refs[v->nrefs - 1];
    if ((provider = PyObject_GetAttr(article, s_provider)) == NULL)
        return 0;
    *KEEP(v) = provider;
    if (!text_of(provider, s_name, &v->name, KEEP(v)) || !text_of(provider, s_domain, &v->domain, KEEP(v)))
        return 0;
    if ((published = PyObject_GetAttr(article, s_published)) == NULL)
        return 0;
    *KEEP(v) = published;
    /* The Python writers' dates are fields of a UTC datetime; other zones and early years (where
     * strftime and isoformat pad differently) are theirs. */
    if (!PyDateTime_CheckExact(published) || !((PyDateTime_DateTime *)published)->hastzinfo ||
        PyDateTime_DATE_GET_TZINFO(published) != PyDateTime_TimeZone_UTC)
        return 0;
    v->year = PyDateTime_GET_YEAR(published);
    if (v->year < 1000)
        return 0;
    v->month = PyDateTime_GET_MONTH(published);
    v->day = PyDateTime_GET_DAY(published);
    v->hour = PyDateTime_DATE_GET_HOUR(published);
    v->minute = PyDateTime_DATE_GET_MINUTE(published);
    v->second = PyDateTime_DATE_GET_SECOND(published);
    v->microsecond = PyDateTime_DATE_GET_MICROSECOND(published);
    int days = days_from_civil(v->year, v->month, v->day);
    v->weekday = ((days + 3) % 7 + 7) % 7; /* Monday is 0, as datetime.weekday(); 1970-01-01 a Thursday */

    if ((v->topics = PyObject_GetAttr(article, s_topics)) == NULL)
        return 0;
    *KEEP(v) = v->topics;
    if (!PyTuple_CheckExact(v->topics))
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(v->topics); i++)
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(v->topics, i)))
            return 0;
    if ((v->related = PyObject_GetAttr(article, s_related)) == NULL)
        return 0;
    *KEEP(v) = v->related;
    if (!PyTuple_CheckExact(v->related))
        return 0;

    if ((image = PyObject_GetAttr(article, s_image)) == NULL)
        return 0;
    *KEEP(v) = image;
    v->has_image = image != Py_None;
    if (v->has_image) {
        if (!text_of(image, s_url, &v->image_url, KEEP(v)))
            return 0;
        v->has_width = dimension(image, s_width, v->width, sizeof v->width);
        v->has_height = dimension(image, s_height, v->height, sizeof v->height);
        if (v->has_width < 0 || v->has_height < 0)
            return 0;
    }
    return 1;
}

/* -- the same values from the tuple the parse cache stores (stores/packing.article_values) -------- */

/* The str at `index` of a tuple; 0 when it is not one (or not encodable). */
static int text_at(PyObject *tuple, Py_ssize_t index, Text *out)
{
    PyObject *value = PyTuple_GET_ITEM(tuple, index);
    if (!PyUnicode_CheckExact(value))
        return 0;
    out->s = PyUnicode_AsUTF8AndSize(value, &out->n);
    return out->s != NULL;
}

static int optional_int(PyObject *value) { return value == Py_None || PyLong_CheckExact(value); }

#define MICROS_PER_DAY 86400000000LL

/* A stored date (microseconds since 1970, UTC: packing.micros) as fields; 0 when packing.moment
 * would refuse it (not an int, or beyond the years datetime holds). */
static int date_of(PyObject *value, Values *v)
{
    if (!PyLong_CheckExact(value))
        return 0;
    int overflow;
    long long micros = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (micros == -1 && PyErr_Occurred()))
        return 0;
    const long long first = -719162LL * MICROS_PER_DAY, end = 2932897LL * MICROS_PER_DAY; /* 0001-01-01, 10000-01-01 */
    if (micros < first || micros >= end)
        return 0;
    long long days = micros / MICROS_PER_DAY, rest = micros % MICROS_PER_DAY;
    if (rest < 0) {
        rest += MICROS_PER_DAY;
        days -= 1;
    }
    /* civil_from_days (Howard Hinnant's algorithm), the inverse of days_from_civil */
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    v->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    v->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    v->year = (int)(yoe + era * 400 + (v->month <= 2));
    long long seconds = rest / 1000000;
    v->microsecond = (int)(rest % 1000000);
    v->hour = (int)(seconds / 3600);
    v->minute = (int)(seconds / 60 % 60);
    v->second = (int)(seconds % 60);
    v->weekday = (int)(((days + 3) % 7 + 7) % 7);
    return 1;
}

/* 1 with every value read from `values`, when packing.article_from would take them (every value of the
 * type it checks) and the article is the usual kind; 0 otherwise (the caller unpacks the article). */
static int read_tuple(PyObject *values, Values *v)
{
    if (!PyTuple_CheckExact(values) || PyTuple_GET_SIZE(values) != 16)
        return 0;
    if (!text_at(values, 0, &v->url) || !text_at(values, 1, &v->title) || !text_at(values, 2, &v->summary) ||
        !text_at(values, 4, &v->name) || !text_at(values, 5, &v->domain))
        return 0;
    v->title_obj = PyTuple_GET_ITEM(values, 1);
    v->summary_obj = PyTuple_GET_ITEM(values, 2);
    if (!date_of(PyTuple_GET_ITEM(values, 3), v) || v->year < 1000)
        return 0;
    v->topics = PyTuple_GET_ITEM(values, 6);
    if (!PyTuple_CheckExact(v->topics))
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(v->topics); i++)
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(v->topics, i)))
            return 0;
    PyObject *image = PyTuple_GET_ITEM(values, 7);
    v->has_image = image != Py_None;
    if (v->has_image) {
        if (!PyTuple_CheckExact(image) || PyTuple_GET_SIZE(image) != 3 || !text_at(image, 0, &v->image_url))
            return 0;
        PyObject *width = PyTuple_GET_ITEM(image, 1), *height = PyTuple_GET_ITEM(image, 2);
        if (!optional_int(width) || !optional_int(height))
            return 0;
        v->has_width = dimension_of(width, v->width, sizeof v->width);
        v->has_height = dimension_of(height, v->height, sizeof v->height);
        if (v->has_width < 0 || v->has_height < 0)
            return 0;
    }
    v->related = PyTuple_GET_ITEM(values, 8);
    v->related_values = 1;
    if (!PyTuple_CheckExact(v->related))
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(v->related); i++) {
        PyObject *related = PyTuple_GET_ITEM(v->related, i);
        if (!PyTuple_CheckExact(related) || PyTuple_GET_SIZE(related) != 4)
            return 0;
        for (Py_ssize_t k = 0; k < 3; k++)
            if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(related, k)))
                return 0;
        PyObject *published = PyTuple_GET_ITEM(related, 3);
        Values when;
        if (published != Py_None && !date_of(published, &when))
            return 0;
    }
    /* category, kind, quality, heat, draft, source: checked as article_from checks them */
    PyObject *quality = PyTuple_GET_ITEM(values, 11), *heat = PyTuple_GET_ITEM(values, 12);
    if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(values, 9)) || !PyUnicode_CheckExact(PyTuple_GET_ITEM(values, 10)) ||
        !(quality == Py_None || PyFloat_CheckExact(quality)) || !(heat == Py_None || PyFloat_CheckExact(heat)) ||
        !PyBool_Check(PyTuple_GET_ITEM(values, 13)) || !PyUnicode_CheckExact(PyTuple_GET_ITEM(values, 14)))
        return 0;
    return PyTuple_GET_ITEM(values, 15) == Py_None; /* the JSON API's fields: the Python path checks those */
}

/* feed.looks_like_markup(text): asked of Python only when the text could hold markup at all (an end
 * tag needs '<', an entity '&'). -1 on an error. */
static int markup(PyObject *value, const Text *t)
{
    if (memchr(t->s, '<', t->n) == NULL && memchr(t->s, '&', t->n) == NULL)
        return 0;
    PyObject *result = PyObject_CallOneArg(looks_like_markup, value);
    if (result == NULL)
        return -1;
    int truth = PyObject_IsTrue(result);
    Py_DECREF(result);
    return truth;
}

/* -- what several formats share ------------------------------------------------------------ */

/* ` name="digits"` when the dimension is printed (`name` given with its `="`). */
static void number_attribute(Buf *b, const char *name, int has, const char *digits)
{
    if (!has)
        return;
    put(b, name, (Py_ssize_t)strlen(name));
    put(b, digits, (Py_ssize_t)strlen(digits));
    PUTS(b, "\"");
}

/* `<img src="…" alt=""` and the dimensions, as content_html and page_item open it (HTML-escaped URL). */
static void image_tag(const Values *v, Buf *b)
{
    PUTS(b, "<img src=\"");
    put_escaped(b, v->image_url.s, v->image_url.n, HTML);
    PUTS(b, "\" alt=\"\"");
    number_attribute(b, " width=\"", v->has_width, v->width);
    number_attribute(b, " height=\"", v->has_height, v->height);
}

/* feed.content_html(article): the item's HTML, unescaped for the format. 0 when a related link is
 * not the usual kind. */
static int content_html(const Values *v, Buf *b)
{
    int first = 1;
    if (v->has_image) {
        PUTS(b, "<p>");
        image_tag(v, b);
        PUTS(b, "></p>");
        first = 0;
    }
    if (v->summary.n) {
        if (!first)
            PUTS(b, "\n");
        PUTS(b, "<p>");
        put_escaped(b, v->summary.s, v->summary.n, HTML);
        PUTS(b, "</p>");
        first = 0;
    }
    if (!first)
        PUTS(b, "\n");
    PUTS(b, "<p><a href=\"");
    put_escaped(b, v->url.s, v->url.n, HTML);
    PUTS(b, "\">Read the article at ");
    put_escaped(b, v->name.s, v->name.n, HTML);
    PUTS(b, "</a></p>");
    Py_ssize_t count = PyTuple_GET_SIZE(v->related);
    if (count == 0)
        return 1;
    PUTS(b, "\n<h3>Related</h3><ul>");
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *related = PyTuple_GET_ITEM(v->related, i);
        Text url, title, provider;
        PyObject *refs[3] = {NULL, NULL, NULL};
        int ok = v->related_values
                     ? text_at(related, 1, &url) && text_at(related, 0, &title) && text_at(related, 2, &provider)
                     : text_of(related, s_url, &url, &refs[0]) && text_of(related, s_title, &title, &refs[1]) &&
                           text_of(related, s_provider, &provider, &refs[2]);
        if (ok) {
            PUTS(b, "<li><a href=\"");
            put_escaped(b, url.s, url.n, HTML);
            PUTS(b, "\">");
            put_escaped(b, title.s, title.n, HTML);
            PUTS(b, "</a>");
            if (provider.n) {
                PUTS(b, " (");
                put_escaped(b, provider.s, provider.n, HTML);
                PUTS(b, ")");
            }
            PUTS(b, "</li>");
        }
        for (int k = 0; k < 3; k++)
            Py_XDECREF(refs[k]);
        if (!ok)
            return 0;
    }
    PUTS(b, "</ul>");
    return 1;
}

static void url_attribute(const Values *v, Buf *b) /* ` url="…"` of the image, unless its URL is empty */
{
    if (v->image_url.n) {
        PUTS(b, " url=\"");
        put_escaped(b, v->image_url.s, v->image_url.n, XML_ATTR);
        PUTS(b, "\"");
    }
}

/* Media RSS, as feedgen's extension writes it (items.py `_media`): the attributes it knows in its own
 * order, empty ones skipped (an empty URL too, in the thumbnail as well). */
static void media(const Values *v, Buf *b, const char *indent, Py_ssize_t indent_n)
{
    if (!v->has_image)
        return;
    put(b, indent, indent_n);
    PUTS(b, "<media:content");
    url_attribute(v, b);
    PUTS(b, " medium=\"image\"");
    number_attribute(b, " height=\"", v->has_height, v->height);
    number_attribute(b, " width=\"", v->has_width, v->width);
    PUTS(b, "/>");
    put(b, indent, indent_n);
    PUTS(b, "<media:thumbnail");
    url_attribute(v, b);
    PUTS(b, "/>");
}

static void putf(Buf *b, const char *format, ...)
{
    char text[64];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(text, sizeof text, format, args);
    va_end(args);
    if (n > 0)
        put(b, text, n < (int)sizeof text ? n : (int)sizeof text - 1);
}

static void rfc3339(const Values *v, Buf *b) /* dates.rfc3339 */
{
    putf(b, "%04d-%02d-%02dT%02d:%02d:%02dZ", v->year, v->month, v->day, v->hour, v->minute, v->second);
}

/* Whether urllib.parse.quote(domain, safe="/") leaves the domain as it is. */
static int quote_keeps(const Text *t)
{
    for (Py_ssize_t i = 0; i < t->n; i++) {
        unsigned char c = (unsigned char)t->s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-' || c == '~' || c == '/'))
            return 0;
    }
    return 1;
}

/* -- the formats --------------------------------------------------------------------------- */

/* Each topic between `open` and `close`, escaped by `table`, `between` between two; 0 when one is not
 * UTF-8 (the caller gives up). */
static int topics(const Values *v, Buf *b, const char *open, const char *close, const char *between,
                  const char **table)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(v->topics); i++) {
        Py_ssize_t n;
        const char *topic = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(v->topics, i), &n);
        if (topic == NULL)
            return 0;
        if (i)
            put(b, between, (Py_ssize_t)strlen(between));
        put(b, open, (Py_ssize_t)strlen(open));
        put_escaped(b, topic, n, table);
        put(b, close, (Py_ssize_t)strlen(close));
    }
    return 1;
}

static const char *DAYS[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

#define RSS_I "\n      "
#define ATOM_I "\n    "

static int rss_item(const Values *v, const Text *before, const Text *after, Buf *b, Buf *html)
{
    if (!quote_keeps(&v->domain))
        return 0;
    PUTS(b, "\n    <item>" RSS_I "<title>");
    put_escaped(b, v->title.s, v->title.n, PLAIN);
    PUTS(b, "</title>" RSS_I "<link>");
    put_escaped(b, v->url.s, v->url.n, XML_TEXT);
    PUTS(b, "</link>");
    if (v->summary.n) {
        PUTS(b, RSS_I "<description>");
        put_escaped(b, v->summary.s, v->summary.n, DOUBLE);
        PUTS(b, "</description>" RSS_I "<content:encoded>");
        put_escaped(b, html->data, html->len, XML_TEXT);
        PUTS(b, "</content:encoded>");
    } else { /* feedgen puts the content in <description> when there is no description */
        PUTS(b, RSS_I "<description>");
        put_escaped(b, html->data, html->len, XML_TEXT);
        PUTS(b, "</description>");
    }
    PUTS(b, RSS_I "<guid isPermaLink=\"true\">");
    put_escaped(b, v->url.s, v->url.n, XML_TEXT);
    PUTS(b, "</guid>");
    if (!topics(v, b, RSS_I "<category>", "</category>", "", PLAIN))
        return 0;
    PUTS(b, RSS_I "<pubDate>");
    putf(b, "%s, %02d %s %d %02d:%02d:%02d +0000", DAYS[v->weekday], v->day, MONTHS[v->month - 1], v->year,
         v->hour, v->minute, v->second);
    PUTS(b, "</pubDate>" RSS_I "<source url=\"");
    put_escaped(b, before->s, before->n, XML_ATTR);
    put_escaped(b, v->domain.s, v->domain.n, XML_ATTR);
    put_escaped(b, after->s, after->n, XML_ATTR);
    PUTS(b, "\">");
    put_escaped(b, v->name.s, v->name.n, PLAIN);
    PUTS(b, "</source>");
    media(v, b, RSS_I, sizeof(RSS_I) - 1);
    PUTS(b, RSS_I "<dc:creator>");
    put_escaped(b, v->name.s, v->name.n, PLAIN);
    PUTS(b, "</dc:creator>\n    </item>");
    return 1;
}

static void isoformat(const Values *v, Buf *b) /* datetime.isoformat() of a UTC datetime */
{
    putf(b, "%04d-%02d-%02dT%02d:%02d:%02d", v->year, v->month, v->day, v->hour, v->minute, v->second);
    if (v->microsecond)
        putf(b, ".%06d", v->microsecond);
    PUTS(b, "+00:00");
}

/* items.py `_atom_text`: escaped HTML with type="html" when the plain text would be taken for markup. */
static void atom_text(Buf *b, const char *tag, const Text *t, int is_markup)
{
    PUTS(b, ATOM_I "<");
    put(b, tag, (Py_ssize_t)strlen(tag));
    if (is_markup)
        PUTS(b, " type=\"html\"");
    PUTS(b, ">");
    put_escaped(b, t->s, t->n, is_markup ? DOUBLE : XML_TEXT);
    PUTS(b, "</");
    put(b, tag, (Py_ssize_t)strlen(tag));
    PUTS(b, ">");
}

static int atom_entry(const Values *v, Buf *b, Buf *html)
{
    int title_markup = markup(v->title_obj, &v->title);
    int summary_markup = v->summary.n ? markup(v->summary_obj, &v->summary) : 0;
    if (title_markup < 0 || summary_markup < 0)
        return -1;
    PUTS(b, "\n  <entry>" ATOM_I "<id>");
    put_escaped(b, v->url.s, v->url.n, XML_TEXT);
    PUTS(b, "</id>");
    atom_text(b, "title", &v->title, title_markup);
    PUTS(b, ATOM_I "<updated>");
    isoformat(v, b);
    PUTS(b, "</updated>" ATOM_I "<author>" ATOM_I "  <name>");
    put_escaped(b, v->name.s, v->name.n, XML_TEXT);
    PUTS(b, "</name>" ATOM_I "  <uri>https://");
    put_escaped(b, v->domain.s, v->domain.n, XML_TEXT);
    PUTS(b, "/</uri>" ATOM_I "</author>" ATOM_I "<content type=\"html\">");
    put_escaped(b, html->data, html->len, XML_TEXT);
    PUTS(b, "</content>" ATOM_I "<link href=\"");
    put_escaped(b, v->url.s, v->url.n, XML_ATTR);
    PUTS(b, "\"/>");
    if (v->summary.n)
        atom_text(b, "summary", &v->summary, summary_markup);
    if (!topics(v, b, ATOM_I "<category term=\"", "\"/>", "", XML_ATTR))
        return 0;
    PUTS(b, ATOM_I "<published>");
    isoformat(v, b);
    PUTS(b, "</published>");
    media(v, b, ATOM_I, sizeof(ATOM_I) - 1);
    PUTS(b, "\n  </entry>");
    return 1;
}

static void json_string(Buf *b, const char *s, Py_ssize_t n)
{
    PUTS(b, "\"");
    put_escaped(b, s, n, JSON_STRING);
    PUTS(b, "\"");
}

static int json_item(const Values *v, Buf *b, Buf *html) /* jsonfeed.json_item: compact, html-safe */
{
    PUTS(b, "{\"id\":");
    json_string(b, v->url.s, v->url.n);
    PUTS(b, ",\"url\":");
    json_string(b, v->url.s, v->url.n);
    PUTS(b, ",\"title\":");
    json_string(b, v->title.s, v->title.n);
    PUTS(b, ",\"content_html\":");
    json_string(b, html->data, html->len);
    if (v->summary.n) {
        PUTS(b, ",\"summary\":");
        json_string(b, v->summary.s, v->summary.n);
    }
    if (v->has_image) {
        PUTS(b, ",\"image\":");
        json_string(b, v->image_url.s, v->image_url.n);
    }
    PUTS(b, ",\"date_published\":\"");
    rfc3339(v, b);
    PUTS(b, "\"");
    Py_ssize_t count = PyTuple_GET_SIZE(v->topics);
    if (count) {
        PUTS(b, ",\"tags\":[");
        if (!topics(v, b, "\"", "\"", ",", JSON_STRING))
            return 0;
        PUTS(b, "]");
    }
    PUTS(b, ",\"authors\":[{\"name\":");
    json_string(b, v->name.s, v->name.n);
    PUTS(b, ",\"url\":\"https://");
    put_escaped(b, v->domain.s, v->domain.n, JSON_STRING);
    PUTS(b, "/\"}]}");
    return 1;
}

static int page_item(const Values *v, Buf *b) /* feed_pages.page_item */
{
    PUTS(b, "<li><article>\n<h3><a href=\"");
    put_escaped(b, v->url.s, v->url.n, HTML);
    PUTS(b, "\">");
    put_escaped(b, v->title.s, v->title.n, HTML);
    PUTS(b, "</a></h3>\n<p class=\"muted\">");
    put_escaped(b, v->name.s, v->name.n, HTML);
    PUTS(b, " \xc2\xb7 <time datetime=\"");
    rfc3339(v, b);
    PUTS(b, "\">");
    putf(b, "%04d-%02d-%02d %02d:%02d", v->year, v->month, v->day, v->hour, v->minute);
    PUTS(b, " UTC</time></p>");
    if (v->has_image) {
        PUTS(b, "\n");
        image_tag(v, b);
        PUTS(b, " loading=\"lazy\">");
    }
    if (v->summary.n) {
        PUTS(b, "\n<p>");
        put_escaped(b, v->summary.s, v->summary.n, HTML);
        PUTS(b, "</p>");
    }
    PUTS(b, "\n</article></li>\n");
    return 1;
}

/* -- the module ---------------------------------------------------------------------------- */

/* items(kind, articles, source_before, source_after) -> list of bytes, None where the Python writer
 * must write the item. `source_before`/`source_after`: the RSS <source url> around the provider's
 * domain (Feed.sources). */
static PyObject *write_items(PyObject *args, int from_values)
{
    int kind;
    PyObject *articles;
    Text before, after;
    if (!PyArg_ParseTuple(args, "iO!s#s#", &kind, &PyList_Type, &articles, &before.s, &before.n, &after.s,
                          &after.n))
        return NULL;
    if (kind < RSS || kind > PAGE) {
        PyErr_SetString(PyExc_ValueError, "unknown item kind");
        return NULL;
    }
    if (looks_like_markup == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(articles);
    PyObject *made = PyList_New(count);
    if (made == NULL)
        return NULL;
    Buf b = {0}, html = {0};
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *article = PyList_GET_ITEM(articles, i);
        Values v = {0};
        b.len = html.len = 0;
        b.failed = html.failed = 0;
        int ok = from_values ? read_tuple(article, &v) : read_values(article, &v);
        if (ok && kind != PAGE)
            ok = content_html(&v, &html);
        if (ok) {
            switch (kind) {
            case RSS: ok = rss_item(&v, &before, &after, &b, &html); break;
            case ATOM: ok = atom_entry(&v, &b, &html); break;
            case JSON: ok = json_item(&v, &b, &html); break;
            default: ok = page_item(&v, &b); break;
            }
        }
        release(&v);
        PyObject *piece = NULL;
        if (ok < 0) { /* Python raised in looks_like_markup: the Python writer will raise it too */
            PyErr_Clear();
        } else if (ok && !b.failed && !html.failed) {
            piece = PyBytes_FromStringAndSize(b.data, b.len);
            if (piece == NULL)
                PyErr_Clear();
        } else {
            PyErr_Clear(); /* "not mine": an attribute missing, a text not UTF-8 */
        }
        if (piece == NULL) {
            Py_INCREF(Py_None);
            piece = Py_None;
        }
        PyList_SET_ITEM(made, i, piece);
    }
    PyMem_Free(b.data);
    PyMem_Free(html.data);
    return made;
}

static PyObject *items(PyObject *self, PyObject *args) { return write_items(args, 0); }

/* items_from_values(kind, values, source_before, source_after): the same, each article given as the
 * tuple the parse cache stores (stores/packing.article_values), None where it is not the usual kind. */
static PyObject *items_from_values(PyObject *self, PyObject *args) { return write_items(args, 1); }

static PyObject *configure(PyObject *self, PyObject *markup_test)
{
    Py_INCREF(markup_test);
    Py_XSETREF(looks_like_markup, markup_test);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"items", items, METH_VARARGS, "Each article's item of one kind (0 RSS, 1 Atom, 2 JSON, 3 page), or None."},
    {"items_from_values", items_from_values, METH_VARARGS, "items() of articles as their stored values."},
    {"configure", configure, METH_O, "configure(looks_like_markup)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_items", NULL, -1, methods};

PyMODINIT_FUNC PyInit__items(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    for (int c = 0; c < 32; c++) {
        if (JSON_STRING[c] == NULL) {
            snprintf(control_escapes[c], sizeof control_escapes[c], "\\u%04x", c);
            JSON_STRING[c] = control_escapes[c];
        }
    }
    struct {
        PyObject **name;
        const char *text;
    } names[] = {{&s_url, "url"},         {&s_title, "title"},     {&s_summary, "summary"},
                 {&s_published, "published"}, {&s_provider, "provider"}, {&s_topics, "topics"},
                 {&s_image, "image"},     {&s_related, "related"}, {&s_name, "name"},
                 {&s_domain, "domain"},   {&s_width, "width"},     {&s_height, "height"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((*names[i].name = PyUnicode_InternFromString(names[i].text)) == NULL)
            return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "INTERFACE", INTERFACE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
