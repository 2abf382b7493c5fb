"""The one cattrs converter: every record proxx reads or writes goes through it."""

from __future__ import annotations

import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from proxx.compile.profiles import CanonicalProfile, Constraints

converter = cattrs.Converter(forbid_extra_keys=True)

# An unset constraint is absent, not null: an intent round-trips as its author wrote it.
converter.register_unstructure_hook(
    Constraints, make_dict_unstructure_fn(Constraints, converter, _cattrs_omit_if_default=True)
)

# A canonical profile's HDR rule is written only where it is not the default, so JobSpecs of profiles
# that state none (or the default) read as they did before the rule existed.
converter.register_unstructure_hook(
    CanonicalProfile,
    make_dict_unstructure_fn(CanonicalProfile, converter, hdr=override(omit_if_default=True)),
)
