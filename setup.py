"""Build hooks beside pyproject.toml (which holds the metadata): the wheel carries the shipped suites and
measured rows as package data (bench/_shipped/, read by bench.shipped) and no test files (bench/conftest.py
and bench/benchmarks/test_*.py stay in the clone for ``pytest bench/ --benchmark-only``)."""

import shutil
from fnmatch import fnmatch
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: Package-data folder -> the clone folder it copies (bench.shipped.SOURCES).
SHIPPED = {"suites": HERE / "suites", "measured": HERE / "reports" / "measured"}
TEST_FILES = ("conftest.py", "test_*.py")


class BuildWithShippedData(build_py):
    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if not any(fnmatch(Path(m[2]).name, pattern) for pattern in TEST_FILES)]

    def run(self):
        super().run()
        for kind, source in SHIPPED.items():
            target = Path(self.build_lib) / "bench" / "_shipped" / kind
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*", "__pycache__"))


setup(cmdclass={"build_py": BuildWithShippedData})
