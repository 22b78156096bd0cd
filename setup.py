"""Installs the maese package (the recipes under recipes/ import it)."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def requirements(name):
    """Requirement lines of a requirements file, without comments."""
    lines = (HERE / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


setup(
    name="maese",
    version="0.1.0",
    description="Masked autoencoders as universal speech enhancers: SpeechBrain-style recipes",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["maese", "maese.*"]),
    package_data={"maese": ["pretrained/*/*"]},  # the shipped default model
    install_requires=requirements("requirements.txt"),
    extras_require={"dnsmos": requirements("requirements-dnsmos.txt"),
                    "peers": requirements("requirements-peers.txt")},
    entry_points={"console_scripts": [
        "maese-enhance = maese.cli.enhance:main",
        "maese-score = maese.cli.score:main",
        "maese-report = maese.cli.report:main",
    ]},
)
