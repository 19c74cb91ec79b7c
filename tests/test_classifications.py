"""Tests for kompetensprognos.classifications."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kompetensprognos import classifications as cl
from kompetensprognos.errors import KompetensprognosError

# --- SSYK 2012 -----------------------------------------------------------------------------------


def test_ssyk_table_shape() -> None:
    df = cl.ssyk()
    assert list(df.columns) == ["code", "level", "parent", "name_sv", "name_en"]
    assert df["level"].value_counts().to_dict() == {4: 429, 3: 148, 2: 46, 1: 10}
    assert df["code"].is_unique
    assert (df["code"].str.len() == df["level"]).all()
    assert cl.UNKNOWN_SSYK not in set(df["code"])
    for level, n in cl.SSYK_LEVEL_SIZES.items():
        assert len(cl.ssyk(level)) == n


def test_ssyk_parents_form_a_tree() -> None:
    df = cl.ssyk()
    top = df[df["level"] == 1]
    assert top["parent"].isna().all()
    rest = df[df["level"] > 1]
    assert (rest["parent"] == rest["code"].str[:-1]).all()
    assert set(rest["parent"]) <= set(df["code"])


def test_ssyk_leading_zeros_kept() -> None:
    codes = set(cl.ssyk()["code"])
    assert {"0", "01", "011", "0110"} <= codes


def test_ssyk_returns_a_copy() -> None:
    df = cl.ssyk()
    df.loc[0, "name_sv"] = "changed"
    assert cl.ssyk().loc[0, "name_sv"] != "changed"


@pytest.mark.parametrize("level", [0, 5, "4", 2.0, True])
def test_ssyk_bad_level(level: object) -> None:
    with pytest.raises(KompetensprognosError, match="1, 2, 3 or 4"):
        cl.ssyk(level)  # type: ignore[arg-type]


def test_ssyk_names() -> None:
    assert cl.ssyk_name("2") == "Yrken med krav på fördjupad högskolekompetens"
    assert cl.ssyk_name("0110", lang="en") == "Commissioned armed forces officers"
    assert cl.ssyk_name("2512") == "Mjukvaru- och systemutvecklare m.fl."
    assert cl.ssyk_name(cl.UNKNOWN_SSYK) == "Yrke okänt"
    assert cl.ssyk_name(cl.UNKNOWN_SSYK, lang="en") == "Unknown occupation"
    with pytest.raises(KompetensprognosError, match="'sv' or 'en'"):
        cl.ssyk_name("2512", lang="de")
    with pytest.raises(KompetensprognosError, match="must be text"):
        cl.ssyk_name(2512)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "level", "expected"),
    [
        ("2512", 1, "2"),
        ("2512", 2, "25"),
        ("2512", 3, "251"),
        ("2512", 4, "2512"),
        ("0110", 1, "0"),
        ("011", 2, "01"),
        ("5", 1, "5"),
        ("0002", 1, "0002"),
        ("0002", 4, "0002"),
    ],
)
def test_ssyk_ancestor(code: str, level: int, expected: str) -> None:
    assert cl.ssyk_ancestor(code, level) == expected


def test_ssyk_ancestor_errors() -> None:
    with pytest.raises(KompetensprognosError, match="no level-4 ancestor"):
        cl.ssyk_ancestor("251", 4)
    with pytest.raises(KompetensprognosError, match="not an SSYK 2012 code"):
        cl.ssyk_ancestor("2599", 2)


def test_ssyk_ancestors_vectorised() -> None:
    codes = pd.Series(["2512", "0110", "0002", "2512", "25"], index=[5, 6, 7, 8, 9], name="ssyk")
    out = cl.ssyk_ancestors(codes, 2)
    assert out.tolist() == ["25", "01", "0002", "25", "25"]
    assert out.index.tolist() == [5, 6, 7, 8, 9]
    assert out.name == "ssyk"
    every4 = cl.ssyk(4)["code"]
    assert cl.ssyk_ancestors(every4, 3).isin(cl.ssyk(3)["code"]).all()


def test_ssyk_ancestors_names_bad_values() -> None:
    codes = pd.Series(["2512", "2599", "25", 2512])
    with pytest.raises(KompetensprognosError) as info:
        cl.ssyk_ancestors(codes, 3)
    named = str(info.value).split(" — ")[0]  # the offending values, before the hint
    assert "'2599'" in named and "'25'" in named and "2512" in named
    assert "'2512'" not in named


def test_ssyk_level_and_validity() -> None:
    assert [cl.ssyk_level(c) for c in ["0", "01", "011", "0110"]] == [1, 2, 3, 4]
    with pytest.raises(KompetensprognosError, match="no level"):
        cl.ssyk_level(cl.UNKNOWN_SSYK)
    with pytest.raises(KompetensprognosError, match="not an SSYK"):
        cl.ssyk_level("9999")
    assert cl.is_ssyk("2512")
    assert cl.is_ssyk("2512", level=4)
    assert not cl.is_ssyk("2512", level=3)
    assert not cl.is_ssyk(2512)
    assert not cl.is_ssyk("110")  # leading zero lost
    assert not cl.is_ssyk("9999")
    assert not cl.is_ssyk(None)
    for level in (None, 1, 2, 3, 4):
        assert cl.is_ssyk(cl.UNKNOWN_SSYK, level=level)
    with pytest.raises(KompetensprognosError):
        cl.is_ssyk("2512", level=7)


# --- SUN 2020, education groups, programmes ------------------------------------------------------


def test_sun_fields() -> None:
    df = cl.sun_fields()
    assert list(df.columns) == ["code", "level_digits", "parent", "name_sv"]
    assert df["level_digits"].value_counts().to_dict() == {4: 377, 3: 118, 2: 26, 1: 10}
    assert df["code"].is_unique
    assert (df["code"].str.len() == df["level_digits"]).all()
    rest = df[df["level_digits"] > 1]
    assert (rest["parent"] == rest["code"].str[:-1]).all()
    assert df.loc[df["level_digits"] == 1, "parent"].isna().all()
    assert len(cl.sun_fields(2)) == 26
    assert {"0", "01", "010", "010c"} <= set(df["code"])
    with pytest.raises(KompetensprognosError):
        cl.sun_fields(5)


def test_sun_levels() -> None:
    df = cl.sun_levels()
    assert list(df.columns) == ["scheme", "code", "level_digits", "name_sv"]
    assert set(df["scheme"]) == {"sun2020", "sun2000_1to7"}
    new = cl.sun_levels("sun2020")
    assert new["code"].is_unique
    assert new.groupby("level_digits").size().to_dict() == {1: 7, 2: 14, 3: 50}
    assert cl.sun_levels("sun2000_1to7")["code"].tolist() == list("1234567")
    with pytest.raises(KompetensprognosError, match="sun2020"):
        cl.sun_levels("isced")


def test_education_groups() -> None:
    df = cl.education_groups()
    assert list(df.columns) == ["code", "name_sv"]
    assert len(df) == 98
    assert df["code"].is_unique
    assert df["code"].str.fullmatch(r"\d\d[A-Z]").all()
    assert df.set_index("code").loc["01Z", "name_sv"] == "Folkskoleutbildning och motsvarande"


def test_programmes() -> None:
    df = cl.programmes()
    assert list(df.columns) == ["code", "name_sv", "kind", "sun_field"]
    kinds = df.groupby("kind")["code"].apply(set).to_dict()
    assert kinds == {
        "yrkesprogram": {"BA", "BF", "EE", "FT", "HA", "HV", "HT", "IN", "NB", "RL", "VF", "VO"},
        "högskoleförberedande": {"EK", "ES", "HU", "NA", "SA", "TE"},
        "introduktionsprogram": {"IM"},
    }
    national = df[df["kind"] != "introduktionsprogram"]
    assert len(national) == 18
    assert national["name_sv"].str.endswith(("programmet", "programmet")).all()
    fields = cl.sun_fields().set_index("code")
    assert national["sun_field"].isin(fields.index).all()
    assert fields.loc[national["sun_field"], "level_digits"].isin([2, 3]).all()
    assert df.loc[df["code"] == "IM", "sun_field"].isna().all()


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("BA", "Bygg- och anläggningsprogrammet"),
        ("BF", "Barn- och fritidsprogrammet"),
        ("NA", "Naturvetenskapsprogrammet"),
        ("VO", "Vård- och omsorgsprogrammet"),
        ("IM", "Introduktionsprogram"),
    ],
)
def test_programme_name(code: str, name: str) -> None:
    assert cl.programme_name(code) == name


def test_programme_name_unknown() -> None:
    with pytest.raises(KompetensprognosError, match="BA, BF"):
        cl.programme_name("XX")


# --- against ../shared/reference -----------------------------------------------------------------


def _ref(shared_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(
        shared_dir / "reference/classifications" / name, dtype=str, keep_default_na=False
    )


def _ours(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype(str).replace("nan", "")


@pytest.mark.shared
def test_ssyk_matches_reference(shared_dir: Path) -> None:
    cols = ["code", "level", "parent", "name_sv", "name_en"]
    ref = _ref(shared_dir, "ssyk2012.csv")[cols].sort_values(["level", "code"])
    ours = _ours(cl.ssyk())[cols]
    pd.testing.assert_frame_equal(ours, ref.reset_index(drop=True))


@pytest.mark.shared
def test_sun_fields_match_reference(shared_dir: Path) -> None:
    cols = ["code", "level_digits", "parent", "name_sv"]
    ref = _ref(shared_dir, "sun2020_fields.csv")[cols].sort_values(["level_digits", "code"])
    ours = _ours(cl.sun_fields())[cols]
    pd.testing.assert_frame_equal(ours, ref.reset_index(drop=True))


@pytest.mark.shared
def test_sun_levels_match_reference(shared_dir: Path) -> None:
    ref = _ref(shared_dir, "sun2020_levels.csv")
    ref["scheme"] = ref["scheme"].map(lambda s: "sun2020" if s == "SUN_niva" else "sun2000_1to7")
    assert ref["scheme"].value_counts().to_dict() == {"sun2020": 71, "sun2000_1to7": 7}
    cols = ["scheme", "code", "level_digits", "name_sv"]
    pd.testing.assert_frame_equal(_ours(cl.sun_levels())[cols], ref[cols])


@pytest.mark.shared
def test_education_groups_match_reference(shared_dir: Path) -> None:
    ref = _ref(shared_dir, "scb_education_groups_sun_ruap.csv")
    ref = ref.rename(columns={"sunRuapGrp": "code", "sunRuapGrpNamn": "name_sv"})
    pd.testing.assert_frame_equal(cl.education_groups(), ref[["code", "name_sv"]])


@pytest.mark.shared
def test_programme_fields_exist_in_reference(shared_dir: Path) -> None:
    ref = set(_ref(shared_dir, "sun2020_fields.csv")["code"])
    assert set(cl.programmes()["sun_field"].dropna()) <= ref


@pytest.mark.shared
def test_programme_names_match_skolverket_data(shared_dir: Path) -> None:
    path = shared_dir / "data/skolverket/gymnasium_throughput_vg_kungsbacka_2011_2017.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    seen = set(pd.read_csv(path, dtype=str, usecols=["program"])["program"])
    national = cl.programmes().query("kind != 'introduktionsprogram'")
    assert set(national["name_sv"]) <= seen
