"""The one compiled part: the CRF's decoding in C (model/_decode.c, called by model/decode.py).

Everything else about the package is in pyproject.toml. The extension is optional: where no C
compiler is there, the build skips it and decoding runs in NumPy (the same paths and marginals,
about 20 times slower a sentence at batch 1).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "model._decode",
            sources=["model/_decode.c"],
            optional=True,
            extra_compile_args=["-O2", "-g0"],  # no debug symbols: the image ships the module
        )
    ]
)
