"""The configuration: the defaults are the recipe, removed options are refused by name, bad values and
user options fail in one line before any work."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from trajcvae import checkpoint
from trajcvae.config import (ADOPTED, REMOVED, Config, check_forget_after, check_k, check_max_gap, check_sampling,
                             check_seed, check_time, load_config, resolve_device)
from trajcvae.errors import CheckpointError, TrajCVAEError

from tests.helpers import cli, one_line_error

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_are_the_configuration_of_the_published_results():
    """The README's table comes from `trajcvae benchmark eth-ucy` with no --config: results.json records
    the configuration it ran, every option of it, and a bare `Config()` must be that configuration."""
    report = json.loads((ROOT / "results" / "eth_ucy" / "results.json").read_text())
    assert report["config"] == Config().to_dict()
    assert not (ROOT / "trajcvae" / "configs" / "eth_ucy.toml").exists()  # no second copy of the recipe to drift


def test_toml_and_set_override_the_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[model]\nhidden = 64\n[train]\nepochs = 3\n")
    cfg = load_config(path, ["train.epochs=5", "data.augment_flip=off"])
    assert (cfg.model.hidden, cfg.train.epochs, cfg.data.augment_flip) == (64, 5, False)
    assert cfg.model.z_dim == Config().model.z_dim
    path.write_text("hidden = 64\n[train]\nepochs = 3\n")  # an option above every section
    with pytest.raises(TrajCVAEError, match="option 'hidden' is outside any section: put it under"):
        load_config(path)


@pytest.mark.parametrize("option", sorted(REMOVED))
def test_a_removed_option_is_refused_by_name_unless_off(tmp_path, option):
    section, key = option.split(".")
    off = REMOVED[option]
    on = {bool: True, int: 3, float: 0.5, str: "gru"}[type(off)]
    for value, ok in ((off, True), (on, False)):
        path = tmp_path / "c.toml"
        path.write_text(f"[{section}]\n{key} = {json.dumps(value)}\n")
        if ok:
            assert load_config(path).to_dict() == Config().to_dict()  # an old run's config.toml still loads
        else:
            with pytest.raises(TrajCVAEError, match=f"option '{option}' .* was removed.*lab-notes"):
                load_config(path)
    with pytest.raises(TrajCVAEError, match=f"overrides {option}: option removed"):
        load_config(None, [f"{option}={on}"])
    assert load_config(None, [f"{option}={off}"]).to_dict() == Config().to_dict()  # as in a config file


@pytest.mark.parametrize("option", sorted(ADOPTED))
def test_an_adopted_flag_loads_at_its_adopted_value_and_is_refused_at_another(tmp_path, option):
    """The published runs' config holds `[kset] own_decoder = true`: it still loads, and asks for nothing."""
    section, key = option.split(".")
    for value, ok in ((ADOPTED[option], True), (not ADOPTED[option], False)):
        path = tmp_path / "c.toml"
        path.write_text(f"[{section}]\n{key} = {json.dumps(value)}\n")
        if ok:
            assert load_config(path).to_dict() == load_config(None, [f"{option}={value}"]).to_dict() == Config().to_dict()
        else:
            for args in ((path, None), (None, [f"{option}={value}"])):
                with pytest.raises(TrajCVAEError, match=f"'{option}' = .* no longer a choice.*adopted"):
                    load_config(*args)


def test_an_old_checkpoint_that_used_a_removed_option_is_refused_in_one_line(tmp_path):
    cfg = Config().to_dict()
    cfg["model"]["encoder"] = "gru"
    path = tmp_path / "old.pt"
    torch.save({"format": checkpoint.FORMAT, "version": "0.1.0", "config": cfg, "model": {}}, path)
    with pytest.raises(CheckpointError, match="model.encoder' = 'gru' was removed") as e:
        checkpoint.load(path)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("override,message", [
    ("model.heads=0", "model.heads must be >= 1"),
    ("model.heads=5", "divide model.hidden"),
    ("model.min_sigma=-1", "model.min_sigma must be > 0"),
    ("train.epochs=0", "train.epochs must be >= 1"),
    ("train.max_grad_norm=-1", "train.max_grad_norm must be >= 0"),
    ("data.memory_radius=0", "data.memory_radius must be > 0"),
    ("train.device=tpu", "train.device must be auto, cpu or cuda"),
    ("data.obs_len=1", r"data.obs_len must be >= 2 \(got 1\)"),
    ("data.pred_len=0", r"data.pred_len must be >= 1 \(got 0\)"),
    ("data.time_step=0", r"data.time_step must be > 0 \(got 0.0\)"),
    ("data.frame=polar", "data.frame must be 'heading' or 'world'"),
    ("data.min_speed=0", r"data.min_speed must be > 0 \(got 0.0\)"),
    ("data.neighbor_radius=-1", r"data.neighbor_radius must be >= 0 \(got -1.0\)"),
    ("data.memory_horizon=11", r"data.memory_horizon must be >= data.pred_len \(got data.memory_horizon = 11, "
                               r"data.pred_len = 12\)"),
    ("train.lr=0", r"train.lr must be > 0 \(got 0.0\)"),
    ("kset.epochs=-1", r"kset.epochs must be >= 0 \(0 = no learned K-set\) \(got -1\)"),
    ("train.seed=9223372036854775808", r"train.seed must be between 0 and 2\*\*63 - 1"),
    ("train.num_threads=1025", r"train.num_threads must be from 0 \(torch's default\) to 1024 \(got 1025\)"),
    ("model.min_sigma=1e10", r"model.min_sigma must be > 0 and at most 1 .*\(got 10000000000.0\)"),
    ("model.hidden=1180591620717411303424", r"model.hidden must be at most 2\*\*63 - 1 in magnitude"),  # 2**70
    ("data.min_speed=1e39", r"data.min_speed must be below 3.4e38 in magnitude, float32's largest \(got 1e\+39\)"),
    ("data.classes=,", "data.classes names no label: give labels"),
    ("data.columns=x", r"data.columns must be role=column pairs, comma-separated, .* \(got 'x'\)"),
    ("data.obs_len=١٢", r"option 'data.obs_len' has invalid value '١٢' \(write its digits 0-9\)"),
])
def test_invalid_values_are_refused(override, message):
    with pytest.raises(TrajCVAEError, match=message):
        load_config(None, [override])


def test_a_misspelt_option_gets_its_right_name():
    for given, meant in (("data.OBS_LEN", "data.obs_len"), ("train.epoch", "train.epochs"), ("OBS_LEN", "data.obs_len"),
                         ("OBS_LEM", "data.obs_len")):
        with pytest.raises(TrajCVAEError, match=rf"unknown option '{given}'; did you mean '{meant}'\?"):
            load_config(None, [f"{given}=3"])


def test_a_scale_file_named_in_digits_of_another_script_is_found_beside_its_config(tmp_path, monkeypatch):
    """data.scale = "٢" in a config file names the file ٢ beside it (a number needs the digits 0-9)."""
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "٢").write_text("scene,scale\na,0.5\n")
    (tmp_path / "cfg" / "c.toml").write_text('[data]\nscale = "٢"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config("cfg/c.toml").data.scale == str(tmp_path / "cfg" / "٢")
    with pytest.raises(TrajCVAEError, match=r"option 'data.scale' has invalid value '٢' \(write its digits 0-9\)"):
        load_config(None, ["data.scale=٢"])  # no such file here: no number either


def test_one_option_set_twice_is_refused_not_the_last_kept():
    with pytest.raises(TrajCVAEError, match=r"^overrides data.obs_len=12 and data.obs_len=8 both set "
                                            r"data.obs_len: give one$"):
        load_config(None, ["data.obs_len=12", "model.hidden=32", "data.obs_len=8"])
    r = cli("train", "none.csv", "--set", "data.obs_len=12", "--set", "data.obs_len=8")
    one_line_error(r, "--set data.obs_len=12 and data.obs_len=8 both set data.obs_len: give one")


def test_a_config_file_says_what_its_values_are_as_toml_writes_them(tmp_path):
    """A flag is true or false (0 and 1 are counts); the old "off" of a removed option is that value of its
    type (cv_steps = 1.5 is no 1, "0" in quotes no 0.0); a value out of range is named with the file, not
    as the command line's option (--classes, --device) it never gave."""
    path = tmp_path / "c.toml"
    for text, message in (("[data]\nscale_norm = 0", r"option 'data.scale_norm' has invalid value 0 \(a flag: "
                                                         r"true or false\)"),
                          ("[data]\ncv_steps = 1.5", "option 'data.cv_steps' = 1.5 was removed"),
                          ("[model]\ndropout = \"0\"", "option 'model.dropout' = '0', a removed option's old off "
                                                        "written as another type: write 0.0, or remove the line"),
                          ("[data]\nnbr_encounter = 0", "option 'data.nbr_encounter' = 0, a removed option's old "
                                                       "off written as another type: write false"),
                          ("[kset]\nown_decoder = \"yes\"", "option 'kset.own_decoder' = 'yes' is no longer a choice"),
                          ("[data]\nclasses = \"\"", "^{path}: data.classes names no label"),
                          ("[data]\ncolumns = \" \"", "^{path}: data.columns must be role=column pairs")):
        path.write_text(text + "\n")
        with pytest.raises(TrajCVAEError, match=message.format(path=re.escape(str(path)))):
            load_config(path)
    path.write_text("[data]\ncv_steps = 1.0\n[model]\ndropout = 0\n[kset]\nown_decoder = true\n")
    assert load_config(path).to_dict() == load_config(None, ["data.cv_steps=1", "kset.own_decoder=yes"]).to_dict() \
        == Config().to_dict()  # as an old run's config holds them
    cfg = load_config(None, ["train.device=cuda"])
    if not torch.cuda.is_available():
        with pytest.raises(TrajCVAEError, match=r"^train.device = 'cuda': CUDA is not available"):
            resolve_device(cfg.train.device, cfg.shown("train.device", cfg.train.device))


def test_a_data_option_a_config_file_or_set_gave_is_named_so_when_the_data_refuse_it(tmp_path):
    """--classes, --columns and --fps are checked against the data when they are read: a value that came from a
    config file or a --set is named as given there, not as a command-line flag that was never given."""
    data = tmp_path / "t.csv"
    data.write_text("frame,agent_id,x,y\n0,1,0,0\n10,1,0.4,0\n20,1,0.8,0\n")
    config = tmp_path / "c.toml"
    config.write_text('[data]\nclasses = "Pedestrian"\n')
    one_line_error(cli("train", data, "--config", config, "--out", tmp_path / "r"),
                   f"{config}: data.classes: {data} has no label column")
    one_line_error(cli("train", data, "--set", "data.columns=foo=x", "--out", tmp_path / "r"),
                   "--set data.columns=foo=x: no role 'foo'")
    one_line_error(cli("train", data, "--set", "data.columns=agent_id=pid", "--out", tmp_path / "r"),
                   "no column 'pid' (--set data.columns=agent_id=pid)")
    one_line_error(cli("train", data, "--config", config, "--set", "data.columns=agent_id=pid", "--out",
                       tmp_path / "r"), "(--set data.columns=agent_id=pid)")  # the --set, not the file, gave it
    config.write_text('[data]\ncolumns = "agent_id=pid"\n')
    one_line_error(cli("train", data, "--config", config, "--out", tmp_path / "r"),
                   f"no column 'pid' ({config}: data.columns = agent_id=pid)")
    one_line_error(cli("train", data, "--classes", "Pedestrian", "--out", tmp_path / "r"),
                   f"--classes: {data} has no label column")
    # A rate a run's saved config gives (data.fps, from frame ids) for files with a time column: named, and its
    # fix, as the file or --set gave it; a --fps of the command line stays --fps.
    timed = tmp_path / "timed.csv"
    timed.write_text("time,agent_id,x,y\n0,1,0,0\n0.1,1,0.1,0\n0.2,1,0.2,0\n0.3,1,0.3,0\n")  # 10 Hz: off 25's grid
    config.write_text("[data]\nfps = 25\n")
    one_line_error(cli("train", timed, "--config", config, "--out", tmp_path / "r"),
                   f"{config}: data.fps = 25: the times of {timed} keep to no 25 Hz grid", "): give the rate the "
                   "detections are made at, or drop data.fps")
    one_line_error(cli("train", timed, "--set", "data.fps=25", "--out", tmp_path / "r"),
                   "--set data.fps=25: ", ", or drop --set data.fps")
    one_line_error(cli("train", timed, "--config", config, "--fps", 25, "--out", tmp_path / "r"),
                   "--fps 25: ", ", or drop --fps")
    for part in ("train", "val", "test"):  # the benchmark names it so too
        (tmp_path / "splits" / "lobby" / part).mkdir(parents=True)
        timed_copy = tmp_path / "splits" / "lobby" / part / "t.csv"
        timed_copy.write_text(timed.read_text() + f"0,{len(part)},5,5\n")  # (not the same bytes)
    one_line_error(cli("benchmark", "folders", "--root", tmp_path / "splits", "--set", "data.fps=25", "--out",
                       tmp_path / "res"), "--set data.fps=25: ", ", or drop --set data.fps")
    # A fix the error gives with a value is written as the option was given: --set data.fps=25, data.fps = 25.
    frames = tmp_path / "frames.csv"  # frame ids 10 apart: at 2.5 a second, 4 s
    frames.write_text("frame,agent_id,x,y\n" + "".join(f"{10 * i},1,{0.5 * i},0\n" for i in range(30)))
    config.write_text("[data]\nfps = 2.5\n")
    for given, fix in ((["--set", "data.fps=2.5"], "give --set data.fps=25 if they are 0.4 s apart"),
                       (["--config", config], "give data.fps = 25 if they are 0.4 s apart")):
        r = cli("train", frames, *given, "--out", tmp_path / "r")
        error = r.output.splitlines()[-1]
        assert r.exit_code == 1 and fix in error and "--fps" not in error, r.output


def test_numbers_of_numpy_or_fractions_in_a_python_config_are_saved_as_pythons_own():
    """A config built in Python (a sweep over np.logspace) saves its numbers as Python's, which a weights-only
    load reads back; a count beyond 2**63 - 1 is refused before any work."""
    from fractions import Fraction

    from trajcvae.config import validate

    cfg = Config()
    cfg.train.lr, cfg.model.hidden, cfg.data.dt, cfg.kset.lr = np.float64(1e-3), np.int64(32), np.float32(0.4), \
        Fraction(1, 1000)
    cfg.train.device, cfg.data.scale_norm = np.str_("cpu"), np.bool_(False)
    validate(cfg)
    assert [type(v) for v in (cfg.train.lr, cfg.model.hidden, cfg.data.dt, cfg.kset.lr, cfg.train.device,
                              cfg.data.scale_norm)] == [float, int, float, float, str, bool]
    assert Config.from_dict({"data": {"scale_norm": np.bool_(False)}}).data.scale_norm is False
    cfg.data.scale_norm = np.array([True, False])  # no flag
    with pytest.raises(TrajCVAEError, match=r"data.scale_norm must be of type bool \(got array\("):
        validate(cfg)
    cfg.data.scale_norm = True
    buffer = __import__("io").BytesIO()
    torch.save(cfg.to_dict(), buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True)["model"]["hidden"] == 32
    cfg.data.memory = 2 ** 70
    with pytest.raises(TrajCVAEError, match=r"data.memory must be at most 2\*\*63 - 1 in magnitude \(got about "):
        validate(cfg)
    cfg.data.memory, cfg.train.epoch = 8, 5  # a misspelt option no code reads
    with pytest.raises(TrajCVAEError, match=r"unknown option 'train.epoch'; did you mean 'train.epochs'\?"):
        validate(cfg)
    cfg = Config()
    cfg.data = {"obs_len": 8}
    with pytest.raises(TrajCVAEError, match=r"data must be a DataConfig \(got \{'obs_len': 8\}\); set its options"):
        validate(cfg)


def test_values_at_the_edge_of_their_range_are_taken():
    cfg = load_config(None, ["data.obs_len=2", "data.pred_len=1", "data.memory_horizon=1", "data.neighbor_radius=0",
                             "data.frame=world", "kset.epochs=0", "train.seed=9223372036854775807"])
    assert (cfg.data.obs_len, cfg.data.pred_len, cfg.data.memory_horizon, cfg.train.seed) == (2, 1, 1, 2 ** 63 - 1)


def test_a_scale_and_a_homography_together_are_refused(tmp_path):
    np.savetxt(tmp_path / "H.txt", np.eye(3))
    with pytest.raises(TrajCVAEError, match="^invalid config: data.scale and data.homography exclude each other$"):
        load_config(None, ["data.scale=2", f"data.homography={tmp_path / 'H.txt'}"])


def test_a_set_without_a_value_says_what_set_takes():
    with pytest.raises(TrajCVAEError, match="^overrides 'train.epochs': expected section.key=value$"):
        load_config(None, ["train.epochs"])
    # Text in matching quotes is unquoted (as TOML writes it); a quote at one end only is part of the text.
    assert load_config(None, ['data.classes="Pedestrian']).data.classes == '"Pedestrian'


@pytest.mark.parametrize("written", ["C:\\tmp\\fast.txt", "C:\\bin\\fast.txt", "C:\\runs\\t.txt"])
def test_a_windows_path_whose_backslashes_toml_reads_as_escapes_is_named(tmp_path, written):
    """In double quotes TOML reads \\t, \\b, \\f, \\r and \\n as control characters: the path is refused with the fix,
    not looked for as a name with a tab in it."""
    path = tmp_path / "c.toml"
    path.write_text(f'[data]\nhomography = "{written}"\n')
    with pytest.raises(TrajCVAEError, match="holds control characters .*a Windows path: write it in single quotes"):
        load_config(path)


def test_a_count_reads_the_same_from_a_config_file_and_from_set(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[train]\nepochs = 2.0\n")
    assert load_config(path).train.epochs == load_config(None, ["train.epochs=2.0"]).train.epochs == 2
    for bad in ("2.5", "two"):
        with pytest.raises(TrajCVAEError, match=f"overrides: option 'train.epochs' has invalid value '{bad}'"):
            load_config(None, [f"train.epochs={bad}"])


def test_a_config_that_no_model_can_be_built_from_is_refused_by_the_api_and_in_a_checkpoint(tmp_path, sim_files):
    """`train` from Python checks its config as the CLI does; a checkpoint whose config was edited out of
    range is refused in one line when loaded, not in a traceback when its model is built."""
    from trajcvae.train import train
    cfg = Config()
    cfg.model.heads = 3
    with pytest.raises(TrajCVAEError, match="invalid config: model.heads must be >= 1 and divide model.hidden"):
        train([sim_files["train"]], None, cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    ckpt = torch.load(ROOT / "trajcvae" / "models" / "pedestrian.pt", weights_only=True)
    ckpt["config"]["model"]["hidden"] = -5
    torch.save(ckpt, tmp_path / "edited.pt")
    with pytest.raises(CheckpointError, match=r"edited.pt: the checkpoint holds an invalid config: model.hidden"):
        checkpoint.load(tmp_path / "edited.pt")
    # Bounds that only training needs (a decoder floor over 1, over 1,024 threads) do not refuse a model trained so.
    ckpt["config"]["model"]["hidden"] = 128
    ckpt["config"]["model"]["min_sigma"], ckpt["config"]["train"]["num_threads"] = 1.5, 2000
    torch.save(ckpt, tmp_path / "trained_so.pt")
    assert checkpoint.load(tmp_path / "trained_so.pt")["config"]["model"]["min_sigma"] == 1.5


def test_a_config_homography_or_scales_file_saved_by_a_windows_editor_is_read(tmp_path):
    """Notepad's UTF-8 with a byte-order mark, and PowerShell's UTF-16: each small file reads as its UTF-8;
    one of no known encoding is named with what it holds."""
    from trajcvae.units import scene_scales, unit_conversion

    texts = {"c.toml": "[train]\nepochs = 3\n", "h.txt": "0.02 0 0\n0 0.02 0\n0 0 1\n", "s.yaml": "plaza: 0.05\n"}
    for name, text in texts.items():
        for coding, data in (("bom", b"\xef\xbb\xbf" + text.encode()), ("u16", text.encode("utf-16"))):
            (tmp_path / f"{coding}_{name}").write_bytes(data)
    for coding in ("bom", "u16"):
        assert load_config(tmp_path / f"{coding}_c.toml").train.epochs == 3
        assert np.allclose(unit_conversion(None, tmp_path / f"{coding}_h.txt")["homography"], np.diag([0.02, 0.02, 1]))
        assert scene_scales(tmp_path / f"{coding}_s.yaml")["scales"] == {"plaza": 0.05}
    # What cannot be read says what it holds and the fix: UTF-16 without its mark, Windows-1252.
    (tmp_path / "u16.toml").write_bytes(texts["c.toml"].encode("utf-16-le"))
    (tmp_path / "latin.txt").write_bytes("# échelle\n".encode("cp1252") + texts["h.txt"].encode())
    with pytest.raises(TrajCVAEError, match=r"u16.toml: it holds NUL bytes \(UTF-16 without a byte-order mark, or "
                                            r"not text\); save it as UTF-8$"):
        load_config(tmp_path / "u16.toml")
    torch.save({"format": 1}, tmp_path / "best.pt")  # a run's checkpoint given as its config
    with pytest.raises(TrajCVAEError, match=r"config .*best.pt: a zip archive or a pickle \(a checkpoint\?\), not a "
                                            r"TOML config; a run's config is the config.toml beside its checkpoints"):
        load_config(tmp_path / "best.pt")
    with pytest.raises(TrajCVAEError, match=r"latin.txt: not UTF-8 text \(byte 0xE9: Windows-1252 or Latin-1\?\); "
                                            r"save it as UTF-8$"):
        unit_conversion(None, tmp_path / "latin.txt")


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-be", "utf-16-be"])
def test_a_config_saved_as_utf32_or_big_endian_utf16_with_its_byte_order_mark_is_read(tmp_path, codec):
    """UTF-32's little-endian byte-order mark starts as UTF-16's does (FF FE): each is read as what it is."""
    text = "\ufeff[train]\nepochs = 3\n" if codec != "utf-32" else "[train]\nepochs = 3\n"
    (tmp_path / "c.toml").write_bytes(text.encode(codec))  # (Python's utf-32 writes its mark itself)
    assert load_config(tmp_path / "c.toml").train.epochs == 3


@pytest.mark.parametrize("toml,option", [
    ("[train]\nepochs = true\n", "train.epochs"),  # TOML's true is no number
    ("[data]\nscale = true\n", "data.scale"),
    ("[data]\nhomography = 5\n", "data.homography"),  # a path is text
    ("[data]\nclasses = [\"Pedestrian\"]\n", "data.classes"),  # labels are one comma-separated text
])
def test_a_toml_value_of_the_wrong_kind_is_refused_by_name(tmp_path, toml, option):
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(TrajCVAEError, match=f"{path}: option '{option}' has invalid value"):
        load_config(path)


@pytest.mark.parametrize("toml,said", [
    ('[train]\nepochs = "3"\n', "option 'train.epochs' = '3' is text in quotes; write it without them (epochs = 3)"),
    ('[data]\naugment_flip = "False"\n', "option 'data.augment_flip' = 'False' is text in quotes; write it without "
                                          "them (augment_flip = false)"),
    ('[data]\nfps = "30"\n', "option 'data.fps' = '30' is text in quotes"),
    ('[data]\naugment_flip = "yes"\n', "option 'data.augment_flip' = 'yes' is text in quotes; write it without "
                                        "them (augment_flip = true)"),  # the TOML that means it
    ('[train]\nepochs = "2.5"\n', "option 'train.epochs' has invalid value '2.5'"),  # no count, quoted or not
])
def test_a_toml_number_or_flag_in_quotes_is_refused_as_the_python_api_refuses_it(tmp_path, toml, said):
    """TOML has numbers and true/false: one written in quotes is text, refused with the fix (--set's values
    are all text, and read as TOML would read them unquoted); a scale may still name a file."""
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(TrajCVAEError, match=re.escape(f"{path}: {said}")):
        load_config(path)
    (tmp_path / "scales.csv").write_text("scene,scale\nlobby,0.02\n")
    path.write_text('[data]\nscale = "scales.csv"\n')
    assert load_config(path).data.scale == str(tmp_path / "scales.csv")
    assert load_config(None, ["train.epochs=3", "data.augment_flip=false"]).train.epochs == 3
    path.write_text('[data]\nfps = "none"\n')  # TOML has no null: "none" unsets, as --set data.fps=none does
    assert load_config(path).data.fps is None


def test_a_homography_file_is_kept_by_its_absolute_path(tmp_path, monkeypatch):
    """A run's config names its homography file from any folder (a run resumed from elsewhere)."""
    np.savetxt(tmp_path / "H.txt", np.eye(3))
    monkeypatch.chdir(tmp_path)
    assert load_config(None, ["data.homography=H.txt"]).data.homography == str(tmp_path / "H.txt")


def test_a_homography_named_in_a_config_file_is_found_beside_that_file(tmp_path, monkeypatch):
    """A TOML shipped with its H.txt works from any folder; --set names a file from the current one."""
    (tmp_path / "cam").mkdir()
    np.savetxt(tmp_path / "cam" / "H.txt", np.eye(3))
    (tmp_path / "cam" / "c.toml").write_text('[data]\nhomography = "H.txt"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config("cam/c.toml").data.homography == str(tmp_path / "cam" / "H.txt")
    np.savetxt(tmp_path / "H2.txt", np.eye(3))
    assert load_config("cam/c.toml", ["data.homography=H2.txt"]).data.homography == str(tmp_path / "H2.txt")


def test_train_names_a_bad_value_as_its_option_and_its_value():
    """`trajcvae train --epochs 0` is refused naming --epochs and its value, as `demo --epochs 0` is; the same
    value through --set or a config file names the config key."""
    from tests.helpers import cli, one_line_error

    data = ROOT.parent / "shared" / "datasets" / "eth_ucy" / "eth" / "test" / "biwi_eth.txt"
    for args, said in ((["--epochs", "0"], "error: --epochs must be >= 1 (got 0)"),
                       (["--fps", "-1"], "error: --fps must be > 0 (got -1.0)"),
                       (["--device", "tpu"], "error: --device must be auto, cpu or cuda (got 'tpu')"),
                       (["--set", "train.epochs=0"], "error: invalid config: train.epochs must be >= 1 (got 0)"),
                       (["--set", "data.max_gap=-1"], "error: invalid config: data.dt must be > 0 and data.max_gap "
                        ">= 0 (got data.dt = 0.4, data.max_gap = -1.0)")):
        r = cli("train", data, "--out", ROOT / "never_made", *args)
        one_line_error(r, said)
    assert not (ROOT / "never_made").exists()


def test_user_options_are_checked_in_one_place():
    assert check_k(1) == 1 and check_seed(0) == 0 and check_seed(2 ** 63 - 1) == 2 ** 63 - 1
    for bad in (0, -3):
        with pytest.raises(TrajCVAEError, match="^k must be >= 1"):
            check_k(bad)
    for bad in (-1, 2 ** 63):
        with pytest.raises(TrajCVAEError, match="^seed must be between"):
            check_seed(bad)
    # Python's numbers beyond any float (10**400) or too long to write (10**5000): one line, not an OverflowError
    # or ValueError, the number named by its size.
    with pytest.raises(TrajCVAEError, match=r"^seed must be between 0 and 2\*\*63 - 1 \(got about 2\*\*16609\)$"):
        check_seed(10 ** 5000)
    with pytest.raises(TrajCVAEError, match=r"^draws must be at most 2\*\*63 - 1 \(got about 2\*\*1328\)$"):
        check_sampling(20, 0, "kmeans", 10 ** 400)
    with pytest.raises(TrajCVAEError, match=r"^max_gap must be a number of seconds >= 0 \(got a Series\)$"):
        check_max_gap(__import__("pandas").Series([1.0, 2.0]))  # (its repr is several lines)
    for check, option in ((check_max_gap, "max_gap"), (check_forget_after, "forget_after"),
                          (lambda v: check_time(v, "since"), "since")):
        with pytest.raises(TrajCVAEError, match=rf"^{option} must be .*\(got about -?2\*\*1328\)$"):
            check(-10 ** 400 if option == "since" else 10 ** 400)
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(TrajCVAEError, match="^device must be cpu, cuda or auto"):
        resolve_device("tpu")


def test_an_option_set_by_both_set_and_its_own_flag_is_refused():
    """train --set train.epochs=2 --epochs 1: one of the two would be dropped in silence."""
    with pytest.raises(TrajCVAEError, match=r"^overrides train.epochs=2 and epochs=1 both set train.epochs: give "
                                            "one$"):  # (a command line's: --set train.epochs=2 and --epochs 1)
        load_config(None, ["train.epochs=2"], {"train.epochs": ("--epochs", 1)})
    cfg = load_config(None, ["train.seed=3"], {"train.epochs": ("--epochs", 1)})  # other keys: both taken
    assert (cfg.train.epochs, cfg.train.seed) == (1, 3)


def test_a_run_s_config_record_reads_back_as_the_same_config_whatever_its_text_holds(tmp_path):
    """config.toml is written for every run and read back by --resume: quotes, backslashes and other
    characters in a path or a label survive it."""
    from trajcvae.train import to_toml

    folder = tmp_path / "bob's \"cam\" \\ 1 é 😀"
    folder.mkdir()
    np.savetxt(folder / "H.txt", np.eye(3))
    cfg = load_config(None, [f"data.homography={folder / 'H.txt'}", "data.classes=kid's,tab\there"])
    (tmp_path / "config.toml").write_text(to_toml(cfg.to_dict()), encoding="utf-8")
    assert load_config(tmp_path / "config.toml").to_dict() == cfg.to_dict()


def test_a_mistyped_option_name_gets_the_closest_one_and_text_options_can_be_unset_or_quoted(tmp_path):
    with pytest.raises(TrajCVAEError, match="^overrides: unknown option 'train.epoch'; did you mean "
                                            "'train.epochs'\\?$"):
        load_config(None, ["train.epoch=3"])
    with pytest.raises(TrajCVAEError, match="^overrides: unknown option 'epochs'; did you mean 'train.epochs' or "
                                            "'kset.epochs'\\?$"):
        load_config(None, ["epochs=3"])
    path = tmp_path / "c.toml"
    path.write_text("[model]\nhiden = 64\n")
    with pytest.raises(TrajCVAEError, match="unknown option 'model.hiden'; did you mean 'model.hidden'\\?$"):
        load_config(path)
    # A value out of range is named with the file that gave it; one that --set gave is --set's.
    path.write_text("[train]\nepochs = -1\n")
    with pytest.raises(TrajCVAEError, match=f"^{re.escape(str(path))}: train.epochs must be >= 1 \\(got -1\\)$"):
        load_config(path)
    with pytest.raises(TrajCVAEError, match="^invalid config: train.epochs must be >= 1 \\(got 0\\)$"):
        load_config(path, ["train.epochs=0"])
    assert load_config(path, ["train.epochs=2"]).train.epochs == 2
    np.savetxt(tmp_path / "H.txt", np.eye(3))
    path.write_text('[data]\nhomography = "H.txt"\n')
    for unset in ("none", ""):  # a config file's homography set aside for a scale on the command line
        cfg = load_config(path, [f"data.homography={unset}", "data.scale=0.5"])
        assert cfg.data.homography is None and cfg.data.scale == 0.5
    cfg = load_config(None, ['data.classes="Pedestrian"', "data.frame='world'"])  # as TOML writes text
    assert (cfg.data.classes, cfg.data.frame) == ("Pedestrian", "world")


def test_a_config_built_in_python_is_checked_for_its_types_and_wrong_arguments_are_named(tmp_path):
    """train() and every load check a Config's option types; the API's wrong arguments are one line."""
    from trajcvae.config import validate

    for section, key, value in (("train", "epochs", "2"), ("train", "epochs", 1.5), ("train", "lr", "0.1"),
                                ("data", "augment_flip", 1), ("data", "homography", 5), ("model", "hidden", True)):
        cfg = Config()
        setattr(getattr(cfg, section), key, value)
        with pytest.raises(TrajCVAEError, match=f"^invalid config: {section}.{key} must be of type .* \\(got"):
            validate(cfg)
    cfg = Config()
    cfg.train.epochs, cfg.train.lr = np.int64(3), 1  # numpy counts and whole-number rates are numbers
    validate(cfg)
    for bad in (None, "c.toml"):
        with pytest.raises(TrajCVAEError, match="^expected a Config \\(from load_config\\)"):
            validate(bad)
    with pytest.raises(TrajCVAEError, match="^load_config: expected the path of a TOML file, got int$"):
        load_config(5)
    with pytest.raises(TrajCVAEError, match="^load_config: expected overrides as a list"):
        load_config(None, ["train.epochs=3", 5])
    with pytest.raises(TrajCVAEError, match="^load_config: expected overrides as a list"):
        load_config(None, "train.epochs=3")
    expected = "load_config: expected options as {'section.key': (its flag, value)}, e.g. {'data.fps': ('--fps', 30)}"
    with pytest.raises(TrajCVAEError, match=re.escape(f"{expected}, got {{'data.fps': 30}}")):
        load_config(None, None, {"data.fps": 30})
    # The benchmark's makings of a config, checked (and named) before any work: not its first character's.
    from trajcvae.benchmark import run_benchmark
    with pytest.raises(TrajCVAEError, match="^run_benchmark: expected overrides as a list"):
        run_benchmark(".", None, "out", suite="folders", overrides="train.epochs=1")
    with pytest.raises(TrajCVAEError, match="^run_benchmark: expected options as"):
        run_benchmark(".", None, "out", suite="folders", options={"data.fps": 30})


def test_a_warning_to_a_python_caller_points_at_the_caller_s_own_line_and_counts_its_words(tmp_path):
    """A `TrajCVAEWarning` is attributed to the caller's line (outside trajcvae), not to trajcvae's own code;
    counts in messages read 0 files, 1 file, 2 files; an exception without a message is named by its type."""
    import warnings

    from trajcvae.errors import first_line, plural
    from trajcvae.tracks import list_files

    (tmp_path / "t.csv").write_text("frame,agent_id,x,y\n0,1,0,0\n")
    (tmp_path / "meta.json").write_text("{}")
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        list_files([tmp_path])
    assert len(got) == 1 and "skipped 1 JSON file (meta.json)" in str(got[0].message)
    assert got[0].filename == __file__
    # Also through a decorator's frames (train is wrapped in a context manager, sampling in inference_mode).
    from contextlib import contextmanager

    import torch

    from trajcvae.errors import warn

    @contextmanager
    def around():
        yield

    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        around()(torch.inference_mode()(warn))("warning: through two decorators")
    assert [(str(w.message), w.filename) for w in got] == [("through two decorators", __file__)]
    assert [plural(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
    # An exception quoted in a message: its first line, or its type where it says nothing.
    assert [first_line(e) for e in (KeyError(), OSError("disk gone\nerrno 5"))] == ["KeyError", "disk gone"]


def test_a_python_caller_reads_options_only_the_command_line_has_as_written_and_config_values_unquoted():
    """--json, --port and the other options of the command line alone have no keyword: named as they are; an
    option that is a config key to its Python caller names its value as an override sets it (train.device=cuda,
    not train.device='cuda')."""
    from trajcvae.errors import keyword_names, worded

    assert worded("--json e.json and --port 80: give one --quiet") == "--json e.json and --port 80: give one --quiet"
    assert worded("--device cuda: no GPU here") == "device='cuda': no GPU here"
    with keyword_names({"--device": "train.device"}):
        assert worded("--device cuda: no GPU here") == "train.device=cuda: no GPU here"
        assert worded("--device 'tpu': not cpu, cuda or auto") == "train.device=tpu: not cpu, cuda or auto"


def test_messages_name_an_option_as_the_caller_gave_it_a_flag_on_the_command_line_a_keyword_in_python(tmp_path):
    """One message, two wordings: the CLI names its flags (-k 3, --kset kmeans, --resume), a Python caller the
    keywords it passed (k=3, kset='kmeans', resume=True), for errors and warnings alike; words that are not
    an option's value stay as they are."""
    from tests.helpers import cli, one_line_error
    from trajcvae import TrajCVAE, TrajCVAEWarning
    from trajcvae.errors import worded
    from trajcvae.train import train

    data = ROOT.parent / "shared" / "datasets" / "eth_ucy" / "eth" / "test" / "biwi_eth.txt"
    model = TrajCVAE.load("pedestrian")
    with pytest.raises(TrajCVAEError, match=r"^kset='learned': the sampler of .* makes 20 futures; use k=20, or "
                                            r"kset='kmeans' for k=3$"):
        model.predict(data, k=3, kset="learned")
    one_line_error(cli("predict", "pedestrian", data, "-k", "3", "--kset", "learned"),
                   "--kset learned: the sampler of", "; use -k 20, or --kset kmeans for -k 3")
    with pytest.raises(TrajCVAEError, match=r"^seed must be between 0 and 2\*\*63 - 1 \(got -1\)$"):
        model.predict(data, seed=-1)
    one_line_error(cli("predict", "pedestrian", data, "--seed", "-1"), "error: --seed must be between 0")
    with pytest.raises(TrajCVAEError, match=r"^out_dir .*c.toml: is a file; give a folder for the run$"):
        (tmp_path / "c.toml").write_text("")
        train([data], None, load_config(None), tmp_path / "c.toml")  # train's own name for the CLI's --out
    seconds = tmp_path / "s.csv"
    seconds.write_text("time,agent_id,x,y\n0,1,0,0\n0.1,1,0.1,0\n0.2,1,0.2,0\n0.3,1,0.3,0\n")
    with pytest.raises(TrajCVAEError, match=r"^data.fps=25: the times of .*s.csv keep to no 25 Hz grid .*: give the "
                                            r"rate the detections are made at, or drop data.fps$"):
        train([seconds], None, load_config(None, ["data.fps=25"]), tmp_path / "run")  # (its config's options)
    with pytest.warns(TrajCVAEWarning, match=r"check scale or homography \(positions in metres\?\)"):
        model.predict(data, scale=100, k=1)
    assert worded("--draws must be at least -k = 5; pass --resume, or drop --fps.") == \
        "draws must be at least k = 5; pass resume=True, or drop fps."
    assert worded("--set 'a.b': expected section.key=value; read it with --columns t=stamp") == \
        "overrides 'a.b': expected section.key=value; read it with columns t=stamp"
    assert worded("see my--fps.csv and --nproc_per_node 2") == "see my--fps.csv and --nproc_per_node 2"
    # A message about a CLI argument, by its usage line's name, is about the parameter; a file or scene of such a
    # name keeps it.
    assert worded("MODEL OUT.csv: no such scene in it (scenes: DATA, OUT)") == \
        "model OUT.csv: no such scene in it (scenes: DATA, OUT)"
    assert worded("the futures in MODEL (a DataFrame) start 2 steps ahead of t0 in DATA, but DATA has none") == \
        "the futures in model (a DataFrame) start 2 steps ahead of t0 in data, but data has none"
    assert worded("DATA/bad.txt line 3: not a number; no windows in DATA.csv") == \
        "DATA/bad.txt line 3: not a number; no windows in DATA.csv"  # (paths, as written)
    # A path goes on past a space, so it is left as written; nor is an option inside a path, a quoted value
    # or a command line in backticks reworded.
    assert worded("--homography /tmp/my data/h.txt: cannot read it") == \
        "homography /tmp/my data/h.txt: cannot read it"
    assert worded("/tmp/run -k/a.csv line 2: value '-k' is not a number") == \
        "/tmp/run -k/a.csv line 2: value '-k' is not a number"
    assert worded("`trajcvae train ... --resume` finishes it, or pass --resume") == \
        "`trajcvae train ... --resume` finishes it, or pass resume=True"
    # train's own names hold in its thread alone, and are gone after it.
    import threading

    from trajcvae.errors import keyword_names

    seen, inside, done = [], threading.Event(), threading.Event()

    def other():
        inside.wait()
        seen.append(worded("--fps 30 --out x.csv"))
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with keyword_names({"--fps": "data.fps", "--out": "out_dir"}):
        assert worded("--fps 30 --out x.csv") == "data.fps=30 out_dir x.csv"
        inside.set()
        done.wait()
    thread.join()
    assert seen == ["fps=30 out x.csv"] and worded("--fps 30 --out x.csv") == "fps=30 out x.csv"


def test_every_cli_option_has_its_python_keyword_or_is_the_command_line_s_own():
    """The rewording knows every option of the CLI's commands, and each one a Python function also takes is
    named as that function's keyword."""
    import inspect

    import typer

    from trajcvae import OnlinePredictor, TrajCVAE, errors
    from trajcvae.benchmark import run_benchmark
    from trajcvae.cli import app
    from trajcvae.demo import run_demo
    from trajcvae.evaluate import evaluate
    from trajcvae.predict import predict_to_file
    from trajcvae.server import create_app
    from trajcvae.simulate import simulate
    from trajcvae.train import train
    from trajcvae.visualize import plot_training, visualize

    options = {o for c in typer.main.get_command(app).commands.values() for p in c.params for o in p.opts
               if o.startswith("-")}
    assert errors.CLI_OPTIONS == options
    keywords = {name for f in (TrajCVAE.load, TrajCVAE.predict, TrajCVAE.sample_kset, predict_to_file, train,
                               evaluate, visualize, plot_training, OnlinePredictor, create_app, simulate,
                               run_benchmark, run_demo, load_config)
                for name in inspect.signature(f).parameters}
    keywords |= {"out_dir", "n_frames", "max_k", "max_agents", "max_body", "max_scenes"}  # train's, simulate's;
    # create_app's limits
    own = {"--host", "--port", "--threads", "--json", "--replay", "--speed", "--quiet", "--time-step",
           "--max-grad-norm"}  # the command line's own (train's two set a config value: --set names them)
    for option in options - own:
        name = errors.worded(option).partition("=")[0]
        assert name in keywords, option
