"""Tests for kompetensprognos.regions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kompetensprognos import regions as rg
from kompetensprognos.errors import KompetensprognosError

# --- municipalities ------------------------------------------------------------------------------


def test_municipalities_vg_has_the_fifty() -> None:
    df = rg.municipalities()
    assert list(df.columns) == ["code", "name", "county", "county_name", "subregion"]
    assert len(df) == 50
    assert df["code"].is_unique
    assert (df["county"] == "14").sum() == 49
    assert df.loc[df["code"] == rg.KUNGSBACKA, "county"].item() == "13"
    assert set(df["subregion"]) == set(rg.SUBREGION_IDS)


def test_municipalities_sweden_has_290_with_text_codes() -> None:
    df = rg.municipalities("sweden")
    assert len(df) == 290
    assert df["code"].is_unique
    assert df["code"].str.fullmatch(r"\d{4}").all()
    assert df["county"].str.fullmatch(r"\d{2}").all()
    assert (df["code"].str[:2] == df["county"]).all()
    assert df["county"].nunique() == 21
    assert "0114" in set(df["code"])  # leading zero kept
    assert df["subregion"].notna().sum() == 50


def test_municipalities_returns_a_copy() -> None:
    df = rg.municipalities()
    df.loc[0, "name"] = "changed"
    assert rg.municipalities().loc[0, "name"] != "changed"


def test_municipalities_unknown_scope() -> None:
    with pytest.raises(KompetensprognosError, match="vg, sweden"):
        rg.municipalities("world")


# --- regions -------------------------------------------------------------------------------------


def test_region_ids() -> None:
    assert rg.REGION_IDS == (
        "fyrbodal",
        "goteborgsregionen",
        "sjuharad",
        "skaraborg",
        "vastra-gotaland",
    )
    assert rg.SUBREGION_IDS == rg.REGION_IDS[:4]
    assert rg.ALL_REGION_IDS == (*rg.REGION_IDS, "delregionerna")
    assert [r.id for r in rg.regions()] == list(rg.ALL_REGION_IDS)


@pytest.mark.parametrize(
    ("region_id", "n"),
    [
        ("fyrbodal", 14),
        ("goteborgsregionen", 13),
        ("sjuharad", 8),
        ("skaraborg", 15),
        ("vastra-gotaland", 49),
        ("delregionerna", 50),
    ],
)
def test_member_counts(region_id: str, n: int) -> None:
    assert len(rg.members(region_id)) == n
    assert list(rg.members(region_id)) == sorted(rg.members(region_id))


def test_kungsbacka_in_gr_and_total_but_not_county() -> None:
    assert rg.KUNGSBACKA in rg.members("goteborgsregionen")
    assert rg.KUNGSBACKA in rg.members("delregionerna")
    assert rg.KUNGSBACKA not in rg.members("vastra-gotaland")
    assert rg.subregion_of(rg.KUNGSBACKA) == "goteborgsregionen"


def test_subregions_partition_the_fifty() -> None:
    subs = [set(rg.members(s)) for s in rg.SUBREGION_IDS]
    assert sum(len(s) for s in subs) == 50
    assert set().union(*subs) == set(rg.members("delregionerna"))
    assert set(rg.members("delregionerna")) - set(rg.members("vastra-gotaland")) == {"1384"}


def test_region_objects() -> None:
    county = rg.get_region("vastra-gotaland")
    assert (county.kind, county.code, county.name) == ("county", "14", "Västra Götalands län")
    total = rg.get_region("delregionerna")
    assert (total.kind, total.code, total.name) == ("total", None, "De fyra delregionerna")
    gr = rg.get_region("goteborgsregionen")
    assert (gr.kind, gr.code) == ("subregion", None)
    with pytest.raises(AttributeError):
        gr.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("region_id", "name"),
    [
        ("fyrbodal", "Fyrbodal"),
        ("goteborgsregionen", "Göteborgsregionen"),
        ("sjuharad", "Boråsregionen (Sjuhärad)"),
        ("skaraborg", "Skaraborg"),
        ("vastra-gotaland", "Västra Götalands län"),
        ("delregionerna", "De fyra delregionerna"),
    ],
)
def test_region_names(region_id: str, name: str) -> None:
    assert rg.region_name(region_id) == name


@pytest.mark.parametrize("bad", ["gr", "Fyrbodal", "14", None])
def test_unknown_region_lists_valid_ids(bad: object) -> None:
    with pytest.raises(KompetensprognosError, match="fyrbodal, goteborgsregionen"):
        rg.get_region(bad)  # type: ignore[arg-type]


def test_municipality_lookups() -> None:
    assert rg.municipality_name("1480") == "Göteborg"
    assert rg.municipality_name("0114") == "Upplands Väsby"
    assert rg.subregion_of("1490") == "sjuharad"
    assert rg.subregion_of("1496") == "skaraborg"
    assert rg.subregion_of("1485") == "fyrbodal"
    with pytest.raises(KompetensprognosError, match="not in any of the four subregions"):
        rg.subregion_of("0114")
    with pytest.raises(KompetensprognosError, match="must be text"):
        rg.municipality_name(1480)  # type: ignore[arg-type]
    with pytest.raises(KompetensprognosError, match="not a Swedish municipality"):
        rg.subregion_of("14")


@pytest.mark.parametrize(
    ("code", "expected"),
    [("1480", True), ("0114", True), ("1384", True), ("114", False), ("14", False),
     ("00", False), (1480, False), ("1917", False), ("fyrbodal", False), (None, False)],
)  # fmt: skip
def test_is_municipality(code: object, expected: bool) -> None:
    assert rg.is_municipality(code) is expected


def test_region_membership_long_table() -> None:
    m = rg.region_membership()
    assert list(m.columns) == ["region", "municipality"]
    counts = m.groupby("region").size().to_dict()
    assert counts == {
        "fyrbodal": 14,
        "goteborgsregionen": 13,
        "sjuharad": 8,
        "skaraborg": 15,
        "vastra-gotaland": 49,
        "delregionerna": 50,
    }
    assert not m.duplicated().any()


# --- aggregate_regions ---------------------------------------------------------------------------


@pytest.fixture
def tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["1384", "1480", "1490", "1485", "0114", "1480"],
            "ssyk": ["0110", "0110", "0110", "0110", "0110", "0210"],
            "year": [2020, 2020, 2020, 2020, 2020, 2020],
            "n": [1, 10, 100, 1000, 5, 7],
        }
    )


def test_aggregate_regions_sums_both_paths(tiny: pd.DataFrame) -> None:
    out = rg.aggregate_regions(tiny, "n")
    assert list(out.columns) == ["region", "ssyk", "year", "n"]
    got = out.set_index(["region", "ssyk"])["n"].to_dict()
    assert got == {
        ("fyrbodal", "0110"): 1000,
        ("goteborgsregionen", "0110"): 11,
        ("goteborgsregionen", "0210"): 7,
        ("sjuharad", "0110"): 100,
        ("vastra-gotaland", "0110"): 1110,  # no Kungsbacka
        ("vastra-gotaland", "0210"): 7,
        ("delregionerna", "0110"): 1111,  # with Kungsbacka
        ("delregionerna", "0210"): 7,
    }
    # region order follows ALL_REGION_IDS; skaraborg has no rows and is absent
    assert list(dict.fromkeys(out["region"])) == [
        "fyrbodal",
        "goteborgsregionen",
        "sjuharad",
        "vastra-gotaland",
        "delregionerna",
    ]


def test_aggregate_regions_keeps_leading_zeros_and_types(tiny: pd.DataFrame) -> None:
    out = rg.aggregate_regions(tiny, ["n"], regions=["vastra-gotaland"])
    assert set(out["ssyk"]) == {"0110", "0210"}
    assert out["ssyk"].map(type).eq(str).all()
    assert out["region"].map(type).eq(str).all()
    assert out["year"].dtype.kind == "i"
    assert out["n"].dtype.kind == "i"


def test_aggregate_regions_custom_region_col_and_subset(tiny: pd.DataFrame) -> None:
    df = tiny.rename(columns={"region": "kommun"})
    out = rg.aggregate_regions(df, "n", region_col="kommun", regions=["delregionerna", "fyrbodal"])
    assert list(out["kommun"].unique()) == ["delregionerna", "fyrbodal"]
    assert out.columns[0] == "kommun"


def test_aggregate_regions_missing_values() -> None:
    df = pd.DataFrame({"region": ["1480", "1481", "1490"], "n": [1.0, np.nan, np.nan]})
    out = rg.aggregate_regions(df, "n", regions=["goteborgsregionen", "sjuharad"])
    got = out.set_index("region")["n"]
    assert got["goteborgsregionen"] == 1.0
    assert np.isnan(got["sjuharad"])


@pytest.mark.parametrize("bad", ["14", "00", "fyrbodal", "1480.0", 1480, None])
def test_aggregate_regions_refuses_non_municipalities(tiny: pd.DataFrame, bad: object) -> None:
    df = tiny.astype({"region": object})
    df.loc[0, "region"] = bad
    with pytest.raises(KompetensprognosError, match=r"never across levels") as info:
        rg.aggregate_regions(df, "n")
    assert repr(bad) in str(info.value)


def test_aggregate_regions_bad_arguments(tiny: pd.DataFrame) -> None:
    with pytest.raises(KompetensprognosError, match="'value'"):
        rg.aggregate_regions(tiny, "value")
    with pytest.raises(KompetensprognosError, match="valid ids"):
        rg.aggregate_regions(tiny, "n", regions=["gr"])


# --- against ../shared/reference -----------------------------------------------------------------

# Stale row in the reference: Heby moved from Västmanland (1917) to Uppsala län (0331) in 2007.
_STALE_REFERENCE_CODES = {"1917"}

_SUBREGION_LABELS = {
    "Fyrbodal": "fyrbodal",
    "Göteborgsregionen (GR)": "goteborgsregionen",
    "Sjuhärad (Boråsregionen)": "sjuharad",
    "Skaraborg": "skaraborg",
}


@pytest.mark.shared
def test_sweden_municipalities_match_reference(shared_dir: Path) -> None:
    ref = pd.read_csv(
        shared_dir / "reference/regions/sweden_municipalities.csv",
        dtype=str,
        keep_default_na=False,
    )
    assert set(ref["Kommun"]) - set(rg.municipalities("sweden")["code"]) == _STALE_REFERENCE_CODES
    ref = ref[~ref["Kommun"].isin(_STALE_REFERENCE_CODES)]
    ref = ref.rename(
        columns={
            "Kommun": "code",
            "Kommun_namn": "name",
            "Lan": "county",
            "Lan_namn": "county_name",
        }
    )
    cols = ["code", "name", "county", "county_name"]
    ref = ref[cols].sort_values("code").reset_index(drop=True)
    ours = rg.municipalities("sweden")[cols]
    pd.testing.assert_frame_equal(ours, ref)


@pytest.mark.shared
def test_vg_subregions_match_reference(shared_dir: Path) -> None:
    ref = pd.read_csv(shared_dir / "reference/regions/vg_subregions.csv", dtype=str)
    assert set(ref["delregion"]) == set(_SUBREGION_LABELS)
    expected = dict(zip(ref["kommunkod"], ref["delregion"].map(_SUBREGION_LABELS), strict=True))
    ours = rg.municipalities("vg")
    assert dict(zip(ours["code"], ours["subregion"], strict=True)) == expected
    names = dict(zip(ref["kommunkod"], ref["kommun"], strict=True))
    assert dict(zip(ours["code"], ours["name"], strict=True)) == names
    counties = dict(zip(ref["kommunkod"], ref["lan"], strict=True))
    assert dict(zip(ours["code"], ours["county"], strict=True)) == counties
