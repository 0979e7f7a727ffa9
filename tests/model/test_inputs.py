"""Inputs a model really takes: several positional inputs, keyword and nested inputs
(``--inputs FILE.py:FUNCTION``), token ids sized by their dtype, the zoos' own input
sizes and forms; and the user's code kept quiet (stdout) and offline (no download)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
import torch
from torch import nn

import convcalc
from convcalc.errors import InvalidSpecError
from convcalc.measure.inputs import ExampleInputs, TensorSpec, from_value, parse_spec
from convcalc.measure.target import zoo_inputs
from tests.test_cli import error_line, invoke, run

USER_FILE = '''
import socket
import sys
import urllib.request

import torch
from torch import nn


class Tokens(nn.Module):
    """Token ids -> embedding -> a TransformerEncoder -> mean -> classes."""

    def __init__(self, vocab=1000, dim=32, classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        layer = nn.TransformerEncoderLayer(dim, 4, 64, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(dim, classes)

    def forward(self, ids):
        return self.head(self.encoder(self.embed(ids)).mean(1))


class Recurrent(nn.Module):
    """Token ids -> embedding -> LSTM -> the last step's classes."""

    def __init__(self, vocab=500, dim=16, classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, dim, batch_first=True)
        self.head = nn.Linear(dim, classes)

    def forward(self, ids):
        out, _ = self.lstm(self.embed(ids))
        return self.head(out[:, -1])


class TwoImages(nn.Module):
    """An image and a one-channel mask, each through its own conv, added."""

    def __init__(self):
        super().__init__()
        self.image = nn.Conv2d(3, 8, 3, padding=1)
        self.mask = nn.Conv2d(1, 8, 3, padding=1)

    def forward(self, image, mask):
        return self.image(image) + self.mask(mask)


class Batch(nn.Module):
    """A dict of inputs, a keyword scale and a list of extra maps: printing as it runs."""

    def __init__(self):
        super().__init__()
        self.image = nn.Conv2d(3, 8, 3, padding=1)
        self.mask = nn.Conv2d(1, 8, 3, padding=1)

    def forward(self, batch, extra, scale=None):
        print("forward ran")
        y = self.image(batch["image"]) + self.mask(batch["mask"]) + extra[0]
        return y if scale is None else y * scale


def tokens():
    return Tokens()


def recurrent():
    return Recurrent()


def two_images():
    return TwoImages()


def loud():
    print("building the model, layer table follows")
    sys.stdout.write("| layer | params |\\n")
    return Batch()


def batch_inputs():
    batch = {"image": torch.rand(1, 3, 16, 16), "mask": torch.rand(1, 1, 16, 16)}
    return (batch, [torch.rand(1, 8, 16, 16)]), {"scale": torch.full((1, 8, 1, 1), 2.0)}


def downloads():
    urllib.request.urlopen("https://download.example.com/weights.pth", timeout=60)
    return TwoImages()


def hub():
    torch.hub.load_state_dict_from_url("https://download.example.com/encoder.pth")
    return TwoImages()


def not_inputs():
    return 42


class Anchored(nn.Module):
    """A detection head's habit: class-level tensors, made when the module is first
    imported (here: when the factory first runs, which is under convcalc's meta build),
    and an ``.item()`` in the constructor, which meta cannot run."""

    anchors = None

    def __init__(self):
        super().__init__()
        if Anchored.anchors is None:
            Anchored.anchors = torch.zeros(2)
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.stride = int(torch.ones(()).item())

    def forward(self, x):
        return self.conv(x)


def checks_online():
    try:  # ultralytics asks on import whether it is online, and goes on offline
        socket.getaddrinfo("one.one.one.one", 0)
    except OSError:
        pass
    return Anchored()
'''


@pytest.fixture
def user_file(tmp_path: Path) -> Path:
    """The models above in a file of their own."""
    path = tmp_path / "inputs_models.py"
    path.write_text(USER_FILE, encoding="utf-8")
    return path


def two_images_macs(side: int) -> int:
    """By hand: 8 x 3 x 3 x 3 and 8 x 1 x 3 x 3 weights at every one of side^2 pixels."""
    return side * side * 8 * 9 * (3 + 1)


# ---------------------------------------------------------------- the spec of one input


@pytest.mark.parametrize(
    ("text", "shape", "dtype"),
    [("1x3x224x224", (1, 3, 224, 224), None), ("1x128:long", (1, 128), "long"),
     ("2x77:int32", (2, 77), "int32"), (" 4 :bool", (4,), "bool")],
)  # fmt: skip
def test_a_shape_takes_its_dtype(text: str, shape: tuple[int, ...], dtype: str | None) -> None:
    """``SHAPE[:DTYPE]``: any rank, and the dtype after a colon."""
    assert parse_spec(text) == TensorSpec(shape, dtype)


@pytest.mark.parametrize(
    ("text", "message"),
    [("1x3x0x8", "must have positive sizes"), ("1x128:", "names no dtype"),
     ("1x128:text", "is not one of"), ("1,3", "sizes joined by x"), ("", "sizes joined by x")],
)  # fmt: skip
def test_a_bad_shape_is_one_error(text: str, message: str) -> None:
    """Each bad shape names the rule it breaks."""
    with pytest.raises(InvalidSpecError, match=message):
        parse_spec(text)


def test_inputs_values_take_every_form() -> None:
    """A tensor, a tuple of positional inputs, a dict of keyword inputs, an (args, kwargs)
    pair; anything else is refused in one line."""
    x = torch.zeros(2)
    assert from_value(x).args == (x,)
    assert from_value((x, [x])).args == (x, [x])
    assert from_value({"ids": x}).kwargs == {"ids": x}
    pair = from_value(((x,), {"mask": x}))
    assert (pair.args, pair.kwargs) == ((x,), {"mask": x})
    with pytest.raises(InvalidSpecError, match="returned a int"):
        from_value(42)


def test_inputs_are_made_for_the_device() -> None:
    """On meta: tensors of each shape and dtype, nested as given. On the CPU: floats
    uniform in [0, 1) (never zeros), token ids below the first embedding's vocabulary,
    the same values on every run (seeded); a user's tensor keeps its values."""
    mine = torch.full((2, 2), 7.0)
    given = ExampleInputs((TensorSpec((4, 64), "long"), [TensorSpec((1, 3, 8, 8)), mine]),
                          {"mask": TensorSpec((4, 64), "bool")})  # fmt: skip
    model = nn.Sequential(nn.Linear(2, 2), nn.Embedding(37, 4))
    (ids, (image, same)), named = given.make("meta", model)
    assert (ids.device.type, ids.dtype, ids.shape) == ("meta", torch.int64, (4, 64))
    assert same.is_meta
    assert same.shape == (2, 2)
    (ids, (image, same)), named = given.make("cpu", model)
    assert int(ids.min()) >= 0
    assert int(ids.max()) < 37
    assert len(ids.unique()) > 10
    assert float(image.min()) >= 0
    assert float(image.max()) < 1
    assert float(image.std()) > 0
    assert torch.equal(same, mine)
    assert named["mask"].dtype == torch.bool
    again, _ = given.make("cpu", model)
    assert torch.equal(again[0], ids)
    assert given.input_bytes() == 4 * 64 * 8 + 3 * 64 * 4 + 4 * 4 + 4 * 64 * 1


# ---------------------------------------------------------------- token models


@pytest.mark.parametrize("factory", ["tokens", "recurrent"])
def test_token_models_verify(user_file: Path, factory: str) -> None:
    """A TransformerEncoder and an LSTM classifier on 1x128 token ids: exit 0, the input
    8 bytes per id on both sides (torchinfo's 1,024, not float32's 512), both spellings."""
    for spelling in (["--input-shape", "1x128:long"],
                     ["--input-shape", "1x128", "--input-dtype", "long"]):  # fmt: skip
        result = invoke("model", f"{user_file}:{factory}", *spelling, "--format", "json")
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        assert document["match"] is True
        assert document["analytic"]["not_counted"] == {}
        assert document["analytic"]["memory"]["input_bytes"] == 1024
        assert document["measured"]["input_bytes"] == 1024
        assert document["spec"]["inputs"] == [{"at": "0", "shape": [1, 128], "dtype": "int64"}]


def test_token_ids_are_valid_on_a_real_device(user_file: Path) -> None:
    """On the CPU the ids index the embedding (a zeros-only or out-of-range input would
    hide or break the real forward): the run succeeds and verifies."""
    result = invoke("model", f"{user_file}:tokens", "--input-shape", "2x16:long",
                    "--device", "cpu", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["measured"]["device"] == "cpu"


# ---------------------------------------------------------------- several inputs


def test_one_input_shape_per_positional_input(user_file: Path) -> None:
    """--input-shape repeated: one per positional input, each counted where it is read."""
    result = invoke("model", f"{user_file}:two_images", "--input-shape", "1x3x32x32",
                    "--input-shape", "1x1x32x32", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["match"] is True
    assert document["analytic"]["macs"] == two_images_macs(32)
    assert document["analytic"]["memory"]["input_bytes"] == (3 + 1) * 32 * 32 * 4
    one = invoke("model", f"{user_file}:two_images", "--input-shape", "1x3x32x32")
    assert "takes other inputs than the 1 positional input given" in error_line(one, 2)


def test_inputs_function_gives_nested_and_keyword_inputs(user_file: Path) -> None:
    """--inputs FILE.py:FUNCTION returning ((dict, list), {keyword}): the model runs on
    meta tensors of their shapes, every op counted, and verifies."""
    result = invoke("model", f"{user_file}:loud", "--inputs", f"{user_file}:batch_inputs",
                    "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["match"] is True
    assert document["analytic"]["macs"] == two_images_macs(16)
    ats = [(i["at"], i["shape"]) for i in document["spec"]["inputs"]]
    assert ats == [("0['image']", [1, 3, 16, 16]), ("0['mask']", [1, 1, 16, 16]),
                   ("1[0]", [1, 8, 16, 16]), ("scale", [1, 8, 1, 1])]  # fmt: skip
    assert document["measured"]["device"] == "meta"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--inputs", "nowhere.py:make"], "does not exist"),
     (["--inputs", "{file}:not_inputs"], "returned a int"),
     (["--inputs", "timm:resnet18"], "must be path/to/file.py:FUNCTION"),
     (["--inputs", "{file}:batch_inputs", "--input-shape", "1x3x8x8"], "both give"),
     (["--input-shape", "1x3x8x8", "-i", "32"], "both give")],
)  # fmt: skip
def test_bad_inputs_are_one_error(user_file: Path, args: list[str], message: str) -> None:
    """A bad --inputs, or two ways of giving the inputs at once: one line, exit 2."""
    given = [a.replace("{file}", str(user_file)) for a in args]
    assert message in error_line(invoke("model", f"{user_file}:two_images", *given), 2)


def test_api_takes_inputs_as_the_forward_does(user_file: Path) -> None:
    """``profile(model, *args, **kwargs)``: shapes, tensors (made meta, the user's left
    as they are) and keyword inputs; ``inputs=`` a function; the old ``input_shape=``."""
    namespace: dict[str, object] = {}
    exec(compile(USER_FILE, str(user_file), "exec"), namespace)
    two = namespace["TwoImages"]()  # type: ignore[operator]
    image = torch.rand(1, 3, 32, 32)
    by_shape = convcalc.profile(two, (1, 3, 32, 32), "1x1x32x32")
    by_tensor = convcalc.profile(two, image, mask=torch.rand(1, 1, 32, 32))
    assert by_shape.macs == by_tensor.macs == two_images_macs(32)
    assert by_shape.match is True
    assert by_tensor.match is True
    assert not image.is_meta
    assert next(two.parameters()).device.type == "cpu"
    batch = namespace["Batch"]()  # type: ignore[operator]
    nested = convcalc.profile(batch, inputs=namespace["batch_inputs"])
    assert nested.macs == two_images_macs(16)
    assert nested.match is True
    old = convcalc.profile(namespace["Tokens"](), input_shape=(1, 128), input_dtype="long")  # type: ignore[operator]
    assert old.match is True
    assert old.figures.input_bytes == 1024
    with pytest.raises(InvalidSpecError, match="one way"):
        convcalc.profile(two, (1, 3, 8, 8), input_shape=(1, 3, 8, 8))


# ---------------------------------------------------------------- the zoos' own inputs


def test_timm_uses_its_models_own_input_size() -> None:
    """timm:inception_v3 at its pretrained_cfg's 299, said in a notice: twice the MACs of
    224; an explicit size is taken as given, without a notice."""
    pytest.importorskip("timm")
    notices: list[str] = []
    own = convcalc.profile("timm:inception_v3", notify=notices.append, verify=False)
    assert own.spec["input_shape"] == [1, 3, 299, 299]
    assert any("3x299x299" in n and "pretrained_cfg" in n for n in notices), notices
    notices.clear()
    given = convcalc.profile("timm:inception_v3", (1, 3, 224, 224), notify=notices.append,
                             verify=False)  # fmt: skip
    assert not notices
    assert own.macs > 1.5 * given.macs


def test_torchvision_uses_its_weights_input_size() -> None:
    """A torchvision model whose weights name another size (efficientnet_b3: 300) or a
    video clip (r3d_18: 16 frames of 112x112) is profiled at it, with a notice; one at
    224 says nothing; -i on the command line wins, without a notice."""
    pytest.importorskip("torchvision")
    notices: list[str] = []
    video = convcalc.profile("torchvision:r3d_18", notify=notices.append, verify=False)
    assert video.spec["input_shape"] == [1, 3, 16, 112, 112]
    assert any("16 frames" in n for n in notices), notices
    notices.clear()
    convcalc.profile("torchvision:resnet18", notify=notices.append, verify=False)
    assert not notices
    result = invoke("model", "torchvision:efficientnet_b3", "--no-verify", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["spec"]["input_shape"] == [1, 3, 300, 300]
    assert "3x300x300" in result.stderr
    given = invoke("model", "torchvision:efficientnet_b3", "-i", "64", "--no-verify")
    assert given.exit_code == 0
    assert "notice: torchvision" not in given.stderr


def test_detection_takes_a_list_of_images_and_raft_two_frames() -> None:
    """An NxCxHxW shape for a detection model becomes N images of CxHxW; RAFT gets two
    frames of the shape; each said in a notice; a user's own inputs stay as given."""
    pytest.importorskip("torchvision")
    model = nn.Identity()
    batch = ExampleInputs((TensorSpec((2, 3, 64, 96)),))
    images, notice = zoo_inputs("torchvision:fasterrcnn_resnet50_fpn", model, batch, "float32")
    assert images is not None
    assert notice is not None
    assert images.args == ([TensorSpec((3, 64, 96))] * 2,)
    assert "a list of 3xHxW images: 2 images of 3x64x96" in notice
    frames, notice = zoo_inputs("torchvision:raft_small", model, None, "float32")
    assert frames is not None
    assert frames.args == (TensorSpec((1, 3, 224, 224)),) * 2
    assert notice is not None
    assert "two frames" in notice
    own = ExampleInputs(([TensorSpec((3, 32, 32))],))
    assert zoo_inputs("torchvision:ssd300_vgg16", model, own, "float32") == (own, None)


# ---------------------------------------------------------------- quiet and offline


def test_the_users_printing_goes_to_stderr(user_file: Path) -> None:
    """A factory's and a forward's printing (print, sys.stdout.write) land on stderr: the
    JSON on stdout parses (a real process: file descriptor 1 itself)."""
    process = run("model", f"{user_file}:loud", "--inputs", f"{user_file}:batch_inputs",
                  "--format", "json")  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["match"] is True
    assert "layer table follows" in process.stderr
    assert "forward ran" in process.stderr


@pytest.mark.parametrize("factory", ["downloads", "hub"])
def test_a_download_fails_at_once_with_a_hint(user_file: Path, factory: str) -> None:
    """A factory that downloads (urllib, torch.hub) fails within seconds, one line naming
    the host and how to build without weights; the socket functions are restored after."""
    own = (socket.socket.connect, socket.create_connection, socket.getaddrinfo)
    start = time.monotonic()
    result = invoke("model", f"{user_file}:{factory}", "--no-verify")
    assert time.monotonic() - start < 10
    line = _last_error_line(result.exit_code, result.stdout, result.stderr)
    assert "tried to download from download.example.com" in line
    assert "--arg pretrained=False" in line
    assert "--arg encoder_weights=None" in line
    assert (socket.socket.connect, socket.create_connection, socket.getaddrinfo) == own


def test_an_online_check_is_offline_not_a_download(user_file: Path) -> None:
    """A library that only asks whether it is online (a name look-up, OSError caught)
    finds itself offline and builds; built on the CPU after meta failed, with its
    class-level tensors made under the meta build, the model still runs and verifies."""
    result = invoke("model", f"{user_file}:checks_online", "-i", "16", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["match"] is True
    assert "built on the CPU instead" in result.stderr


def test_a_download_in_a_real_process_is_one_line(user_file: Path) -> None:
    """The same in a real process: exit 2, no traceback, nothing on stdout."""
    process = run("model", f"{user_file}:hub")
    line = _last_error_line(process.returncode, process.stdout, process.stderr)
    assert "convcalc never downloads" in line


def _last_error_line(code: int, stdout: str, stderr: str) -> str:
    """Exit 2, nothing on stdout, no traceback, and one ``error:`` line, the last (the
    library's own stderr line before it, torch.hub's "Downloading: ...", is its own)."""
    assert code == 2, (code, stdout, stderr)
    assert stdout == ""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert [x for x in lines if x.startswith("error: ")] == lines[-1:], stderr
    return lines[-1]
