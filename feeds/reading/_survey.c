/* The article folder's survey in C: reading/folder.py's `Folder.survey` (an os.walk that leaves hidden
 * folders out and does not follow links to folders, then an os.stat of each *.txt / *.md file) as one
 * call that returns, for each file, its relative path, stamp and identity, as the survey's dict.
 *
 * Why: an unchanged export at 100k files is little but this survey, and in Python each file cost ~5 µs
 * (a path built, os.stat's stat_result, two tuples, a hash), against ~2 µs of the kernel's own work.
 * Here the folders are read, then the files stat'ed relative to the root (fstatat, shared among up to
 * four threads), all with the GIL released, and only the values the survey keeps are made. Optional: built by setup.py where a C compiler is;
 * without it, or switched off (FEEDPUB_ACCELERATORS=0), the Python survey runs, and
 * tests/reading/test_survey.py proves the two give the same survey.
 *
 * What is the same as the Python walk, on purpose: a folder that cannot be opened or read is passed
 * over (os.walk's onerror is None); a link to a folder is not entered, and a link named *.md that leads
 * to a folder is no file; a file is stat'ed following links, and one whose stat fails (a dangling link)
 * is left out; names are decoded as os.fsdecode does (surrogateescape). The survey comes back in the
 * byte order of its paths, which is their str order when every name is UTF-8; when one is not (its
 * surrogate escapes sort otherwise as str), the caller is told and sorts it again. Where a file
 * system gives no entry types (DT_UNKNOWN), each entry is stat'ed to tell folders from files, as os.walk
 * does; the tests' file systems all give types. Where the Python survey's os.stat of root/rel would
 * fail for a path longer than PATH_MAX, this one's stat relative to the root may not: such a file is
 * then listed, and its read reports the name too long.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INTERFACE 1

/* One file found: its path relative to the root (owned), and its stat once taken. */
typedef struct {
    char *path;
    size_t length;
    int stated; /* 1: `info` holds the followed stat; -1: that stat failed (the file is left out) */
    struct stat info;
} file_t;

typedef struct {
    file_t *items;
    size_t count, room;
} files_t;

static void files_free(files_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].path);
    free(list->items);
}

/* Append `prefix/name` (or `name` at the root); NULL when memory ran out. */
static file_t *files_add(files_t *list, const char *prefix, size_t prefix_length, const char *name, size_t length)
{
    if (list->count == list->room) {
        size_t room = list->room ? list->room * 2 : 1024;
        file_t *grown = realloc(list->items, room * sizeof(file_t));
        if (grown == NULL)
            return NULL;
        list->items = grown;
        list->room = room;
    }
    size_t total = prefix_length ? prefix_length + 1 + length : length;
    char *path = malloc(total + 1);
    if (path == NULL)
        return NULL;
    if (prefix_length) {
        memcpy(path, prefix, prefix_length);
        path[prefix_length] = '/';
    }
    memcpy(path + total - length, name, length + 1);
    file_t *file = &list->items[list->count++];
    file->path = path;
    file->length = total;
    file->stated = 0;
    return file;
}

static int is_candidate(const char *name, size_t length)
{
    if (name[0] == '.')
        return 0;
    return (length >= 4 && memcmp(name + length - 4, ".txt", 4) == 0) ||
           (length >= 3 && memcmp(name + length - 3, ".md", 3) == 0);
}

/* Read the folder `path` (relative to `root`, "" for the root itself): its candidate files into
 * `files`, then each folder in it that is neither hidden nor a link, in turn. The folders to enter are
 * kept as files are (`folders`, emptied again on return), so no folder is held open while another is
 * read. Runs without the GIL. Returns 0, or -1 when memory ran out. A folder that cannot be opened or
 * read gives what was read of it, as os.walk does. */
static int walk(int root, const char *path, size_t length, files_t *files)
{
    int fd = length ? openat(root, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    : fcntl(root, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    DIR *dir = fdopendir(fd);
    if (dir == NULL) {
        close(fd);
        return 0;
    }
    int dfd = dirfd(dir);
    files_t folders = {0};
    struct dirent *found;
    int failed = 0;
    while (!failed && (found = readdir(dir)) != NULL) {
        const char *name = found->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
            continue;
        size_t name_length = strlen(name);
        unsigned char type = found->d_type;
        if (type == DT_DIR) {
            if (name[0] != '.' && files_add(&folders, path, length, name, name_length) == NULL)
                failed = 1;
            continue;
        }
        if (type == DT_LNK || type == DT_UNKNOWN) {
            /* os.walk's entry.is_dir() follows the link; a failed stat means "not a folder". */
            struct stat info, own;
            int have = fstatat(dfd, name, &info, 0) == 0;
            if (have && S_ISDIR(info.st_mode)) {
                /* A folder, entered only when it is no link (followlinks=False). */
                if (type == DT_UNKNOWN && name[0] != '.' &&
                    fstatat(dfd, name, &own, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(own.st_mode) &&
                    files_add(&folders, path, length, name, name_length) == NULL)
                    failed = 1;
                continue;
            }
            if (is_candidate(name, name_length)) {
                file_t *file = files_add(files, path, length, name, name_length);
                if (file == NULL)
                    failed = 1;
                else {
                    file->stated = have ? 1 : -1;
                    file->info = info;
                }
            }
            continue;
        }
        if (is_candidate(name, name_length) && files_add(files, path, length, name, name_length) == NULL)
            failed = 1; /* stat'ed later, by `stat_all` */
    }
    closedir(dir);
    for (size_t i = 0; i < folders.count && !failed; i++)
        failed = walk(root, folders.items[i].path, folders.items[i].length, files) < 0;
    files_free(&folders);
    return failed ? -1 : 0;
}

typedef struct {
    int root;
    file_t *items;
    size_t count;
} share_t;

static void *stat_share(void *arg)
{
    share_t *share = arg;
    for (size_t i = 0; i < share->count; i++) {
        file_t *file = &share->items[i];
        if (file->stated == 0)
            file->stated = fstatat(share->root, file->path, &file->info, 0) == 0 ? 1 : -1;
    }
    return NULL;
}

/* Stat every file not stat'ed yet. The kernel's stat is most of a survey (~2 µs a file), and the
 * files are independent, so a large folder is shared among up to four threads, one per core. */
static void stat_all(int root, files_t *files)
{
    enum { MAX_THREADS = 4, WORTH_A_THREAD = 4096 };
    if (files->count == 0)
        return;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t threads = cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (size_t)cores;
    size_t worth = files->count / WORTH_A_THREAD; /* the threads this many files are worth */
    if (threads > worth)
        threads = worth ? worth : 1;
    share_t shares[MAX_THREADS];
    pthread_t started[MAX_THREADS];
    int running[MAX_THREADS] = {0};
    size_t each = (files->count + threads - 1) / threads;
    for (size_t t = 0; t < threads; t++) {
        size_t first = t * each < files->count ? t * each : files->count;
        size_t last = first + each < files->count ? first + each : files->count;
        shares[t] = (share_t){root, files->items + first, last - first};
        /* This thread takes the first share; a thread that cannot be started leaves its share to it. */
        running[t] = t > 0 && pthread_create(&started[t], NULL, stat_share, &shares[t]) == 0;
    }
    stat_share(&shares[0]);
    for (size_t t = 1; t < threads; t++) {
        if (running[t])
            pthread_join(started[t], NULL);
        else
            stat_share(&shares[t]);
    }
}

static int by_path(const void *a, const void *b)
{
    return strcmp((*(file_t *const *)a)->path, (*(file_t *const *)b)->path);
}

static PyObject *nanoseconds(struct timespec when)
{
    /* What os.stat's st_*_ns give: seconds * 10**9 + nanoseconds, exact for any seconds. */
    long long sec = (long long)when.tv_sec;
    if (sec > -9000000000LL && sec < 9000000000LL)
        return PyLong_FromLongLong(sec * 1000000000LL + (long long)when.tv_nsec);
    PyObject *s = PyLong_FromLongLong(sec), *billion = PyLong_FromLong(1000000000L), *ns = NULL, *scaled = NULL;
    PyObject *part = PyLong_FromLong((long)when.tv_nsec);
    if (s && billion && part && (scaled = PyNumber_Multiply(s, billion)) != NULL)
        ns = PyNumber_Add(scaled, part);
    Py_XDECREF(s);
    Py_XDECREF(billion);
    Py_XDECREF(part);
    Py_XDECREF(scaled);
    return ns;
}

/* survey[rel] = (stamp, (size, mtime_ns, inode)): folder.py's `stamp` and `identity_of`. Returns
 * 1 when rel was valid UTF-8, 0 when it had to be surrogate-escaped, -1 with an exception set. */
static int add_row(PyObject *survey, const file_t *file)
{
    int plain = 1;
    PyObject *rel = PyUnicode_DecodeUTF8(file->path, (Py_ssize_t)file->length, NULL);
    if (rel == NULL) {
        PyErr_Clear();
        plain = 0;
        rel = PyUnicode_DecodeFSDefaultAndSize(file->path, (Py_ssize_t)file->length);
    }
    const struct stat *info = &file->info;
    PyObject *size = PyLong_FromLongLong((long long)info->st_size);
    PyObject *mtime = nanoseconds(info->st_mtim);
    PyObject *inode = PyLong_FromUnsignedLongLong((unsigned long long)info->st_ino);
    PyObject *ctime = nanoseconds(info->st_ctim);
    PyObject *marked = NULL, *identity = NULL, *pair = NULL;
    int status = -1;
    if (rel && size && mtime && inode && ctime) {
        PyObject *four = PyTuple_Pack(4, size, mtime, inode, ctime);
        if (four != NULL) {
            Py_hash_t hashed = PyObject_Hash(four);
            Py_DECREF(four);
            if (hashed != -1 && (marked = PyLong_FromSsize_t(hashed)) != NULL &&
                (identity = PyTuple_Pack(3, size, mtime, inode)) != NULL &&
                (pair = PyTuple_Pack(2, marked, identity)) != NULL && PyDict_SetItem(survey, rel, pair) == 0)
                status = plain;
        }
    }
    Py_XDECREF(rel);
    Py_XDECREF(size);
    Py_XDECREF(mtime);
    Py_XDECREF(inode);
    Py_XDECREF(ctime);
    Py_XDECREF(marked);
    Py_XDECREF(identity);
    Py_XDECREF(pair);
    return status;
}

static PyObject *survey(PyObject *Py_UNUSED(self), PyObject *arg)
{
    PyObject *encoded = NULL;
    if (!PyUnicode_FSConverter(arg, &encoded))
        return NULL;
    files_t files = {0};
    file_t **order = NULL; /* the files in path order: pointers sort faster than files with their stat */
    int status = 0;
    Py_BEGIN_ALLOW_THREADS
    int root = open(PyBytes_AS_STRING(encoded), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root >= 0) { /* no folder there: no files, as os.walk gives */
        status = walk(root, "", 0, &files);
        if (status == 0) {
            stat_all(root, &files);
            order = malloc((files.count ? files.count : 1) * sizeof(file_t *));
            if (order == NULL)
                status = -1;
            else {
                for (size_t i = 0; i < files.count; i++)
                    order[i] = &files.items[i];
                /* Byte order is str order for UTF-8 (the caller re-sorts when a name was not). */
                qsort(order, files.count, sizeof(file_t *), by_path);
            }
        }
        close(root);
    }
    Py_END_ALLOW_THREADS
    Py_DECREF(encoded);
    PyObject *found = status == 0 ? PyDict_New() : PyErr_NoMemory();
    int ordered = 1;
    for (size_t i = 0; i < files.count && found != NULL; i++) {
        if (order[i]->stated != 1)
            continue; /* gone since, or a dangling link: os.stat fails too */
        int made = add_row(found, order[i]);
        if (made < 0)
            Py_CLEAR(found);
        else if (made == 0)
            ordered = 0;
    }
    free(order);
    files_free(&files);
    if (found == NULL)
        return NULL;
    return Py_BuildValue("(Ni)", found, ordered);
}

static PyMethodDef methods[] = {
    {"survey", survey, METH_O,
     "survey(root) -> ({rel: (stamp, (size, mtime_ns, inode))}, ordered): every article file, in byte order of\n"
     "its path, which is the str order unless `ordered` is false (a name that was not UTF-8)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_survey", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__survey(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "INTERFACE", INTERFACE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
