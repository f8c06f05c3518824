import pytest


def pytest_addoption(parser):
    parser.addoption("--locus", required=True, help="path of the locus executable")
    parser.addoption("--plugin", required=True, help="path of the example plugin library")


@pytest.fixture
def locus(request):
    return request.config.getoption("--locus")


@pytest.fixture
def plugin(request):
    return request.config.getoption("--plugin")
