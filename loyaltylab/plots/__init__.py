"""Charts: each ``plot_*`` draws a result frame on matplotlib Axes and computes nothing.

Every function takes the result frame first, ``ax=None`` and keyword options, and returns the
Axes. Nothing here calls ``plt.show()`` or changes global style on import; call
:func:`use_style` to opt in to the house theme.
"""

from loyaltylab.plots import churn, clv, data, funnel, metrics, survey
from loyaltylab.plots._style import (
    DIVERGING, MIN_FONT_PT, PALETTE, SEQUENTIAL, add_footnote, get_ax, style_context,
    use_style,
)

_FAMILIES = (data, metrics, funnel, churn, clv, survey)

__all__ = ["PALETTE", "SEQUENTIAL", "DIVERGING", "use_style", "style_context", "get_ax",
           "add_footnote", "MIN_FONT_PT"]
# Re-export every family's public functions by name (each module lists them in __all__).
for _family in _FAMILIES:
    globals().update({name: getattr(_family, name) for name in _family.__all__})
    __all__ += _family.__all__
del _family


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
