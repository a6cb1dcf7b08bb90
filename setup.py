"""Package discovery for the wheel: everything under netbuilder/ and ui/, found rather than listed
(a hand-kept list once left out netbuilder.training), plus resources/ installed as netbuilder_resources.
All other metadata is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["netbuilder", "netbuilder.*", "ui", "ui.*"]), "netbuilder_resources"],
    package_dir={"netbuilder_resources": "resources"},
)
