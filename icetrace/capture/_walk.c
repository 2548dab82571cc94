/* Record-offset walk for pcap bodies: the one sequential step of media skipping.
 * Python does the same in icetrace/capture/media_skip.py when this is not built. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static PyObject *walk(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t start;
    int big;
    if (!PyArg_ParseTuple(args, "y*ni", &view, &start, &big)) return NULL;
    const unsigned char *p = (const unsigned char *)view.buf;
    Py_ssize_t n = view.len, pos = start, count = 0, cap = 4096;
    int64_t *out = PyMem_Malloc(cap * sizeof(int64_t));
    if (!out) { PyBuffer_Release(&view); return PyErr_NoMemory(); }
    while (pos + 16 <= n) {
        const unsigned char *h = p + pos + 8;
        uint32_t incl = big ? ((uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3])
                            : ((uint32_t)h[3] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[1] << 8 | h[0]);
        Py_ssize_t end = pos + 16 + (Py_ssize_t)incl;
        if (end > n) break;
        if (count == cap) {
            int64_t *grown = PyMem_Realloc(out, 2 * cap * sizeof(int64_t));
            if (!grown) { PyMem_Free(out); PyBuffer_Release(&view); return PyErr_NoMemory(); }
            out = grown;
            cap *= 2;
        }
        out[count++] = pos;
        pos = end;
    }
    PyObject *result = Py_BuildValue("y#n", (const char *)out, count * (Py_ssize_t)sizeof(int64_t), pos);
    PyMem_Free(out);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"walk", walk, METH_VARARGS, "walk(buffer, start, big_endian) -> (int64 offsets as bytes, end)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_walk", NULL, -1, methods};

PyMODINIT_FUNC PyInit__walk(void) { return PyModule_Create(&module); }
