"""Package discovery for the wheel: everything under netbuilder/ and ui/, found rather than listed
(a hand-kept list once left out netbuilder.training), plus resources/ installed as netbuilder_resources
and the user guide (docs/, its Markdown and pictures: Help ▸ User Guide shows it) as netbuilder_docs.
All other metadata is in pyproject.toml."""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    """docs/ ships its pages, not the scripts that make its screenshots."""

    def find_package_modules(self, package, package_dir):
        return [] if package == "netbuilder_docs" else super().find_package_modules(package, package_dir)


setup(
    packages=[*find_packages(include=["netbuilder", "netbuilder.*", "ui", "ui.*"]), "netbuilder_resources",
              "netbuilder_docs"],
    package_dir={"netbuilder_resources": "resources", "netbuilder_docs": "docs"},
    cmdclass={"build_py": BuildPy},
)
