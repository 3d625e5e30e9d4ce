import json

from typer.testing import CliRunner

from training.calibrate import expected_calibration_error, reliability
from training.cli import app


def test_reliability_bins_and_ece_by_hand() -> None:
    pairs = [(0.95, True), (0.95, True), (0.95, False), (0.55, True), (1.0, True)]
    table = reliability(pairs, bins=10)
    assert [(b.low, b.spans) for b in table] == [(0.5, 1), (0.9, 4)]
    top = table[1]
    assert abs(top.confidence - 0.9625) < 1e-9 and top.accuracy == 0.75
    expected = 1 / 5 * abs(0.55 - 1.0) + 4 / 5 * abs(0.9625 - 0.75)
    assert abs(expected_calibration_error(pairs) - expected) < 1e-9


def test_perfectly_calibrated_spans_have_zero_error() -> None:
    assert expected_calibration_error([(1.0, True)] * 10) == 0.0
    assert expected_calibration_error([]) == 0.0


def test_calibrate_command_stores_a_temperature_the_predictor_uses(
    tiny_model_dir, tiny_examples, tmp_path
) -> None:
    import shutil

    from data.formats import write_jsonl
    from model.predictor import Predictor

    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    data = tmp_path / "dev.jsonl"
    write_jsonl(tiny_examples, data)
    result = CliRunner().invoke(app, ["calibrate", "--data", str(data), "--model", str(model)])
    assert result.exit_code == 0, result.output
    calibration = json.loads((model / "meta.json").read_text())["calibration"]
    assert set(calibration) == {"temperature", "ece_before", "ece_after", "spans", "min_confidence"}
    assert calibration["min_confidence"] == 0.5
    reloaded = Predictor.from_dir(model)
    assert reloaded.temperature == calibration["temperature"]
    assert reloaded.min_confidence == 0.5
    assert "| confidence | spans |" in result.stdout


def test_threshold_effect_counts_wrong_removed_and_right_lost() -> None:
    from training.calibrate import threshold_effect

    pairs = [(0.95, True), (0.5, True), (0.99, True), (0.3, False), (0.95, False), (0.1, False)]
    assert threshold_effect(pairs, 0.9) == (2 / 3, 1 / 3)
    assert threshold_effect([], 0.9) == (0.0, 0.0)


def test_fitting_a_temperature_changes_nothing_in_the_predictor(predictor, tiny_examples) -> None:
    from training.calibrate import TEMPERATURES, fit_temperature

    before = predictor.predict([e.text for e in tiny_examples])
    assert fit_temperature(predictor, tiny_examples) in TEMPERATURES
    assert (predictor.temperature, predictor.min_confidence) == (1.0, 0.0)
    assert predictor.predict([e.text for e in tiny_examples]) == before


def test_a_recalibrated_model_gets_a_new_version(tiny_model_dir, tiny_examples, tmp_path) -> None:
    import shutil

    from data.formats import write_jsonl
    from model import artifact

    model = tmp_path / "m"
    shutil.copytree(tiny_model_dir, model)
    data = tmp_path / "dev.jsonl"
    write_jsonl(tiny_examples, data)
    before = artifact.load(model).meta.version
    result = CliRunner().invoke(app, ["calibrate", "--data", str(data), "--model", str(model)])
    assert result.exit_code == 0, result.output
    after = artifact.load(model).meta.version
    assert after != before and f"model version {after}" in result.stderr
