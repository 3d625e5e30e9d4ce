/* The CRF's decoding for inference, compiled: model/decode.py's FastDecoder calls it when it is
 * built (setuptools builds it on `pip install`; without a C compiler the NumPy code runs instead).
 *
 * One call decodes a padded batch: for each sentence the best path (Viterbi) and the marginal
 * probability of each tag on it (forward-backward in probability space, every step rescaled to
 * its largest entry). The same operations in the same order as the NumPy code's Viterbi, so the
 * same paths bit for bit (ties go to the lowest tag, as NumPy's argmax); the marginals agree with
 * NumPy's to about 1e-12 (NumPy's come from log-depth scans, these one token at a time).
 *
 * Arrays come through the buffer protocol (NumPy's, C-contiguous), so building needs only
 * Python's headers; the work runs without the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

/* A C-contiguous buffer of `ndim` dimensions whose items are `itemsize` bytes of one of the
 * formats in `formats`; 0 with an exception set if it is not. */
static int take(PyObject *obj, Py_buffer *view, int writable, int ndim, Py_ssize_t itemsize,
                const char *formats, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        PyErr_Format(PyExc_ValueError, "expected %s as a C-contiguous%s array", name,
                     writable ? " writable" : "");
        return 0;
    }
    const char *format = view->format ? view->format : "B";
    if (*format == '<' || *format == '=' || *format == '@') format++;
    if (view->ndim != ndim || view->itemsize != itemsize || strlen(format) != 1 ||
        !strchr(formats, *format)) {
        PyErr_Format(PyExc_ValueError, "expected %s of %d dimensions with items of %zd bytes",
                     name, ndim, itemsize);
        PyBuffer_Release(view);
        return 0;
    }
    return 1;
}

/* One sentence of n tokens: its path into `path` (n) and its tags' marginals into `picked` (n).
 * `work` holds 4 * n * k doubles and `pointers` n * k ints. */
/* The scores (see model/decode.py's FastDecoder) and its constants, the same for every sentence. */
typedef struct {
    const double *transitions, *start, *end, *moves, *start_p, *end_p;
    double temperature, min_log, forbidden, tiny;
} Scores;

static void decode_one(const double *emissions, const unsigned char *allowed, Py_ssize_t n,
                       Py_ssize_t k, const Scores *c, double *work, Py_ssize_t *pointers,
                       long long *path, double *picked) {
    const double *transitions = c->transitions, *start = c->start, *end = c->end;
    const double *moves = c->moves, *start_p = c->start_p, *end_p = c->end_p;
    const double temperature = c->temperature, min_log = c->min_log, tiny = c->tiny;
    double *e = work;              /* (n, k) emissions, the forbidden ones FORBIDDEN */
    double *weights = e + n * k;   /* (n, k) exp(emission / temperature), each row's best 1 */
    double *alphas = weights + n * k;
    double *betas = alphas + n * k;
    for (Py_ssize_t i = 0; i < n * k; i++)
        e[i] = (allowed != NULL && !allowed[i]) ? c->forbidden : emissions[i];

    /* Viterbi: score[j] of the best path ending in j; alphas' first rows serve as scratch. */
    double *score = alphas, *next = alphas + k;
    for (Py_ssize_t j = 0; j < k; j++) score[j] = start[j] + e[j];
    for (Py_ssize_t t = 1; t < n; t++) {
        for (Py_ssize_t j = 0; j < k; j++) {
            double best = score[0] + transitions[j];
            Py_ssize_t arg = 0;
            for (Py_ssize_t i = 1; i < k; i++) {
                double candidate = score[i] + transitions[i * k + j];
                if (candidate > best) {
                    best = candidate;
                    arg = i;
                }
            }
            pointers[t * k + j] = arg;
            next[j] = best + e[t * k + j];
        }
        double *swap = score;
        score = next;
        next = swap;
    }
    Py_ssize_t current = 0;
    double best = score[0] + end[0];
    for (Py_ssize_t j = 1; j < k; j++) {
        if (score[j] + end[j] > best) {
            best = score[j] + end[j];
            current = j;
        }
    }
    for (Py_ssize_t t = n - 1; t >= 0; t--) {
        path[t] = current;
        if (t > 0) current = pointers[t * k + current];
    }

    /* Forward-backward at the temperature over rescaled probabilities. */
    for (Py_ssize_t t = 0; t < n; t++) {
        double *row = weights + t * k;
        double top = -INFINITY;
        for (Py_ssize_t j = 0; j < k; j++) {
            row[j] = e[t * k + j] / temperature;
            if (row[j] > top) top = row[j];
        }
        for (Py_ssize_t j = 0; j < k; j++) {
            double x = row[j] - top;
            row[j] = exp(x > min_log ? x : min_log);
        }
    }
    for (Py_ssize_t j = 0; j < k; j++) alphas[j] = start_p[j] * weights[j];
    for (Py_ssize_t t = 1; t < n; t++) {
        const double *before = alphas + (t - 1) * k;
        double *row = alphas + t * k, top = 0.0;
        for (Py_ssize_t j = 0; j < k; j++) {
            double sum = 0.0;
            for (Py_ssize_t i = 0; i < k; i++) sum += before[i] * moves[i * k + j];
            row[j] = sum * weights[t * k + j];
            if (row[j] > top) top = row[j];
        }
        top = top > tiny ? top : tiny;
        for (Py_ssize_t j = 0; j < k; j++) row[j] /= top;
    }
    memcpy(betas + (n - 1) * k, end_p, (size_t)k * sizeof(double));
    for (Py_ssize_t t = n - 2; t >= 0; t--) {
        const double *after = betas + (t + 1) * k, *w = weights + (t + 1) * k;
        double *row = betas + t * k, top = 0.0;
        for (Py_ssize_t i = 0; i < k; i++) {
            double sum = 0.0;
            for (Py_ssize_t j = 0; j < k; j++) sum += moves[i * k + j] * (w[j] * after[j]);
            row[i] = sum;
            if (sum > top) top = sum;
        }
        top = top > tiny ? top : tiny;
        for (Py_ssize_t i = 0; i < k; i++) row[i] /= top;
    }
    for (Py_ssize_t t = 0; t < n; t++) {
        double total = 0.0;
        for (Py_ssize_t j = 0; j < k; j++) total += alphas[t * k + j] * betas[t * k + j];
        double p = alphas[t * k + path[t]] * betas[t * k + path[t]] / total;
        picked[t] = p > 1.0 ? 1.0 : p; /* rounding may leave 1 + 1e-16; NaN stays NaN */
    }
}

PyDoc_STRVAR(decode_doc,
"decode(emissions, lengths, allowed, transitions, start, end, moves, start_p, end_p,\n"
"       temperature, min_log, forbidden, tiny, paths, picked)\n"
"--\n\n"
"Best paths and their tags' marginals of a padded batch, written into paths (B, T) int64 and\n"
"picked (B, T) float64. emissions (B, T, K) float64; lengths (B,) int64, each 1..T; allowed\n"
"(B, T, K) bool or None; transitions and moves (K, K), start, end, start_p and end_p (K,)\n"
"float64; forbidden, the emission of a tag not allowed, and tiny, the floor of a rescale\n"
"(see model/decode.py's FastDecoder).");

/* Whether the buffer has these sizes (d1, d2 ignored past its dimensions); a ValueError if not. */
static int shaped(const Py_buffer *view, const char *name, const char *what, Py_ssize_t d0,
                  Py_ssize_t d1, Py_ssize_t d2) {
    const Py_ssize_t want[3] = {d0, d1, d2};
    for (int i = 0; i < view->ndim; i++) {
        if (view->shape[i] != want[i]) {
            PyErr_Format(PyExc_ValueError, "expected %s of shape %s, with B=%zd T=%zd K=%zd",
                         name, what, d0, d1, d2);
            return 0;
        }
    }
    return 1;
}

static PyObject *decode(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *objects[11];
    Scores scores;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOddddOO", &objects[0], &objects[1], &objects[2],
                          &objects[3], &objects[4], &objects[5], &objects[6], &objects[7],
                          &objects[8], &scores.temperature, &scores.min_log, &scores.forbidden,
                          &scores.tiny, &objects[9], &objects[10]))
        return NULL;
    if (!(scores.temperature > 0.0)) {
        PyErr_SetString(PyExc_ValueError, "expected a temperature > 0");
        return NULL;
    }
    static const char *names[11] = {"emissions", "lengths", "allowed", "transitions", "start",
                                    "end", "moves", "start_p", "end_p", "paths", "picked"};
    static const int dims[11] = {3, 1, 3, 2, 1, 1, 2, 1, 1, 2, 2};
    static const Py_ssize_t sizes[11] = {8, 8, 1, 8, 8, 8, 8, 8, 8, 8, 8};
    static const char *formats[11] = {"d", "qlL", "?bB", "d", "d", "d", "d", "d", "d", "qlL", "d"};
    Py_buffer views[11];
    int held[11] = {0}, ok = 1;
    views[2].buf = NULL; /* allowed may be None */
    for (int i = 0; ok && i < 11; i++) {
        if (i == 2 && objects[2] == Py_None) continue;
        ok = held[i] = take(objects[i], &views[i], i >= 9, dims[i], sizes[i], formats[i],
                            names[i]);
    }
    Py_ssize_t b = 0, t = 0, k = 0;
    long long *lengths = NULL; /* a copy: the caller's array may change once the GIL is let go */
    if (ok) {
        b = views[0].shape[0], t = views[0].shape[1], k = views[0].shape[2];
        if (k < 1) {
            PyErr_SetString(PyExc_ValueError, "expected emissions of at least one tag");
            ok = 0;
        }
        ok = ok && shaped(&views[1], "lengths", "(B,)", b, t, k) &&
             (views[2].buf == NULL || shaped(&views[2], "allowed", "(B, T, K)", b, t, k)) &&
             shaped(&views[9], "paths", "(B, T)", b, t, k) &&
             shaped(&views[10], "picked", "(B, T)", b, t, k);
        for (int i = 3; ok && i <= 8; i++) {
            int square = i == 3 || i == 6;
            const Py_buffer *view = &views[i];
            if (view->shape[0] != k || (square && view->shape[1] != k)) {
                PyErr_Format(PyExc_ValueError, "expected %s of shape %s, with K=%zd", names[i],
                             square ? "(K, K)" : "(K,)", k);
                ok = 0;
            }
        }
    }
    if (ok && b > 0) {
        lengths = PyMem_Malloc((size_t)b * sizeof(long long));
        if (lengths == NULL) {
            PyErr_NoMemory();
            ok = 0;
        } else {
            memcpy(lengths, views[1].buf, (size_t)b * sizeof(long long));
            for (Py_ssize_t i = 0; ok && i < b; i++) {
                if (lengths[i] < 1 || lengths[i] > t) {
                    PyErr_Format(PyExc_ValueError,
                                 "expected lengths from 1 to T=%zd, got %lld for sentence %zd", t,
                                 lengths[i], i);
                    ok = 0;
                }
            }
        }
    }
    if (ok && b > 0) {
        double *work = PyMem_RawMalloc((size_t)(4 * t * k) * sizeof(double));
        Py_ssize_t *pointers = PyMem_RawMalloc((size_t)(t * k) * sizeof(Py_ssize_t));
        if (work == NULL || pointers == NULL) {
            PyMem_RawFree(work);
            PyMem_RawFree(pointers);
            PyErr_NoMemory();
            ok = 0;
        } else {
            const double *emissions = views[0].buf;
            const unsigned char *allowed = views[2].buf;
            long long *paths = views[9].buf;
            double *picked = views[10].buf;
            scores.transitions = views[3].buf, scores.start = views[4].buf;
            scores.end = views[5].buf, scores.moves = views[6].buf;
            scores.start_p = views[7].buf, scores.end_p = views[8].buf;
            Py_BEGIN_ALLOW_THREADS
            for (Py_ssize_t s = 0; s < b; s++) {
                decode_one(emissions + s * t * k, allowed ? allowed + s * t * k : NULL,
                           (Py_ssize_t)lengths[s], k, &scores, work, pointers, paths + s * t,
                           picked + s * t);
            }
            Py_END_ALLOW_THREADS
            PyMem_RawFree(work);
            PyMem_RawFree(pointers);
        }
    }
    PyMem_Free(lengths);
    for (int i = 0; i < 11; i++)
        if (held[i]) PyBuffer_Release(&views[i]);
    if (!ok) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"decode", decode, METH_VARARGS, decode_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "model._decode",
    "The CRF's decoding for inference, compiled (see model/decode.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__decode(void) { return PyModule_Create(&module); }
