"""The house palette is readable in greyscale and under colour-vision deficiencies.

Colour science written out here (test-only, independent of the library):

- sRGB -> linear RGB (IEC 61966-2-1), relative luminance Y with the Rec. 709 weights
  (0.2126, 0.7152, 0.0722), CIE L* = 116 Y^(1/3) - 16 (Y > 0.008856). Anchor: the mid grey
  #777777 has L* = 50.03 and white 100.
- Colour-vision deficiency: Machado, Oliveira & Fernandes (2009), "A physiologically-based
  model for simulation of color vision deficiency", IEEE TVCG 15(6), the severity-1.0
  matrices for protanopia, deuteranopia and tritanopia, applied to linear RGB; colours
  compared by CIE76 Delta E in CIELAB (D65).
- Thresholds: 10 L* for greyscale (about the step print readers tell apart reliably) and
  Delta E 15 under simulation (well above the just-noticeable ~2.3, so legend colours stay
  clearly distinct). Negative controls show each criterion can fail: matplotlib's tab10 red
  and green merge under deuteranopia, and tab10's first four colours do not separate in
  greyscale.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from loyaltylab.plots._style import PALETTE

MACHADO_2009 = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000"}
GREY_STEP, CVD_DELTA_E = 10.0, 15.0


def _linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(lin_rgb: np.ndarray) -> np.ndarray:
    lin_rgb = np.clip(lin_rgb, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ lin_rgb
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def lightness(hex_colour: str) -> float:
    return float(_lab(_linear(hex_colour))[0])


def min_grey_step(colours: list[str]) -> float:
    return min(abs(lightness(a) - lightness(b)) for a, b in itertools.combinations(colours, 2))


def min_delta_e(colours: list[str], matrix: np.ndarray) -> float:
    labs = [_lab(matrix @ _linear(c)) for c in colours]
    return min(float(np.linalg.norm(a - b)) for a, b in itertools.combinations(labs, 2))


def test_colour_science_anchors():
    assert lightness("#FFFFFF") == pytest.approx(100.0, abs=0.01)
    assert lightness("#000000") == pytest.approx(0.0, abs=0.01)
    assert lightness("#777777") == pytest.approx(50.03, abs=0.02)
    # each Machado matrix maps white to (nearly) white: rows sum to 1
    for m in MACHADO_2009.values():
        np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-3)


def test_palette_is_okabe_ito():
    assert {c.upper() for c in PALETTE} == OKABE_ITO and len(PALETTE) == 8


def test_first_four_colours_distinct_in_greyscale():
    assert min_grey_step(PALETTE[:4]) >= GREY_STEP


def test_neighbouring_colours_distinct_in_greyscale():
    cycle = PALETTE + PALETTE[:1]
    steps = [abs(lightness(a) - lightness(b)) for a, b in zip(cycle, cycle[1:])]
    assert min(steps) >= GREY_STEP, steps


@pytest.mark.parametrize("deficiency", sorted(MACHADO_2009))
def test_all_palette_colours_distinct_under_colour_vision_deficiency(deficiency):
    assert min_delta_e(PALETTE, MACHADO_2009[deficiency]) >= CVD_DELTA_E
    assert min_delta_e(PALETTE, np.eye(3)) >= CVD_DELTA_E  # and with normal vision


def test_criteria_can_fail_on_a_palette_that_is_not_safe():
    tab_red, tab_green = "#D62728", "#2CA02C"
    assert min_delta_e([tab_red, tab_green], np.eye(3)) > 100
    assert min_delta_e([tab_red, tab_green], MACHADO_2009["deuteranopia"]) < CVD_DELTA_E
    tab10_first_four = ["#1F77B4", "#FF7F0E", "#2CA02C", "#D62728"]
    assert min_grey_step(tab10_first_four) < GREY_STEP


def test_style_cycle_uses_the_palette():
    import matplotlib as mpl

    from loyaltylab.plots._style import style_context

    with style_context():
        cycle = [c["color"] for c in mpl.rcParams["axes.prop_cycle"]]
    assert cycle == PALETTE


def test_interval_that_does_not_hold_its_estimate_still_draws():
    # adjusted intervals need not contain the raw estimate on tiny groups (one answer of
    # 10 gives NPS 100 with an upper bound below 100); the chart draws it without an arm
    import polars as pl

    import loyaltylab as ll
    trend = pl.DataFrame({"survey": ["w1", "w2"], "n": [1, 5], "score": [100.0, 40.0],
                          "ci_low": [20.0, None], "ci_high": [95.0, 70.0]})
    ax = ll.plots.plot_score_trend(trend)
    assert ax.get_xticklabels()[0].get_text() == "w1"
