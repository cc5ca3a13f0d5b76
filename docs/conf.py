"""Sphinx configuration of the bnn_sklearn documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` from the repository root
(the ``docs`` extra installs what it needs). The build needs no network: there is no
intersphinx, and the gallery runs the scripts in ``examples/`` on this machine.
"""

import json
import os
import re
import sys
from pathlib import Path

from docutils import nodes
from sphinx_gallery.directives import MiniGallery

import bnn_sklearn

ROOT = Path(__file__).resolve().parents[1]
# The gallery's examples import helpers from the benchmarks folder only by path, never by
# installation; make the repository root importable for them.
sys.path.insert(0, str(ROOT))
# Figures of the gallery are drawn without a display.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "bnn_sklearn"
author = "the bnn_sklearn developers"
copyright = "2026, the bnn_sklearn developers"
release = bnn_sklearn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.md5"]
templates_path = ["_templates"]

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

autosummary_generate = True
# The page's table of contents names methods without their class: "fit()", not
# "BayesianMLPClassifier.fit()".
toc_object_entries_show_parents = "hide"
# Gaps in the public API's docstrings fail the build: undocumented, unknown or misordered
# parameters, parameters without a type or a description, and a missing Returns section.
numpydoc_validation_checks = {"PR01", "PR02", "PR03", "PR04", "PR06", "PR07", "RT01", "RT03"}
# Private names, and the methods scikit-learn's base classes document for us.
numpydoc_validation_exclude = {
    r"\._[^.]*$",
    r"\.get_params$",
    r"\.set_params$",
    r"\.score$",
    r"\.set_[a-z_]*_request$",
    r"\.get_metadata_routing$",
    # A named tuple's count and index come from tuple.
    r"PredictiveUncertainty\.(count|index)$",
}
autodoc_typehints = "none"
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "ExampleTitleSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "doc_module": ("bnn_sklearn",),
    "backreferences_dir": "generated/backreferences",
}

html_theme = "pydata_sphinx_theme"
html_title = f"bnn_sklearn {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"changelog": [], "benchmarks": []}
html_static_path = ["_static"]
# Wide tables scroll sideways instead of hiding their last columns.
html_css_files = ["custom.css"]

# scikit-learn's own docstrings (``score``, inherited by both estimators) link to labels of
# scikit-learn's site, which this build does not have: keep their text, drop the link.
_SKLEARN_REF = re.compile(r":ref:`([^`<]+?)\s*<[^`>]+>`")


def _unlink_sklearn_refs(app, what, name, obj, options, lines):
    if getattr(obj, "__module__", "") and obj.__module__.startswith("sklearn."):
        lines[:] = [_SKLEARN_REF.sub(r"\1", line) for line in lines]


class MethodExamples(MiniGallery):
    """The gallery's examples that call one method, under a rubric; nothing when none do."""

    def run(self):
        conf = self.state.document.settings.env.config.sphinx_gallery_conf
        index = Path(conf["src_dir"], conf["backreferences_dir"], "backreferences_all.json")
        name = self.arguments[0]
        if not index.exists() or not json.loads(index.read_text()).get(name):
            return []
        # The mini-gallery inserts its thumbnails into the input after this rubric.
        return [nodes.rubric(text=f"Examples using {name.rsplit('.', 1)[-1]}"), *super().run()]


def _add_method_examples(app, what, name, obj, options, lines):
    # Under each of the package's own methods on the API pages, the examples that call it.
    if what == "method" and name.startswith("bnn_sklearn."):
        lines.extend(["", f".. method-examples:: {name}"])


def setup(app):
    app.connect("autodoc-process-docstring", _unlink_sklearn_refs)
    app.connect("autodoc-process-docstring", _add_method_examples, priority=600)
    app.add_directive("method-examples", MethodExamples)
