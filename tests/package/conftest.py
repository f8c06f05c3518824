import pytest


def pytest_addoption(parser):
    parser.addoption("--build", required=True, help="the CMake build directory")
    parser.addoption("--source", required=True, help="the source tree")
