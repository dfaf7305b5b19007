"""SFace embeddings separate people; open_clip with random weights honours the embedder contract."""

from __future__ import annotations

import numpy as np
import pytest

from lfr_core.vision.engine import largest_face
from lfr_core.vision.registry import build_embedder


def _embed(engine, load, paths):
    faces = engine.analyse_batch([load(p) for p in paths], purpose="enrol")
    out = []
    for p, fs in zip(paths, faces):
        f = largest_face(fs)
        assert f is not None and f.embedding is not None, f"no usable face in {p}"
        out.append(f.embedding)
    return np.stack(out)


def test_sface_embeddings_are_unit_norm_and_separate_people(engine, faces_dir, load, settings):
    paths = [faces_dir / p for p in ("deepface/img1.jpg", "deepface/img2.jpg", "deepface/img3.jpg",
                                     "orl/s1/1.pgm", "orl/s1/2.pgm", "orl/s2/1.pgm")]
    e = _embed(engine, load, paths)
    assert e.shape == (6, 128) and e.dtype == np.float32
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-4)
    sim = e @ e.T
    t = settings.match.threshold
    assert sim[0, 1] > t and sim[3, 4] > t  # same person
    assert sim[0, 2] < t and sim[3, 5] < t and sim[0, 3] < t  # different people


def test_engine_batches_embedding_into_one_call(engine, faces_dir, load):
    calls = []
    real = engine.embedder.embed_batch

    def spy(crops):
        calls.append(len(crops))
        return real(crops)

    engine.embedder.embed_batch = spy
    try:
        imgs = [load(faces_dir / "deepface" / f"img{i}.jpg") for i in (1, 2, 4)]
        faces = engine.analyse_batch(imgs, purpose="live")
    finally:
        del engine.embedder.embed_batch
    assert calls == [sum(len(f) for f in faces)]


@pytest.mark.slow  # builds a ViT in torch: 6 s on an idle machine, 17 s on a loaded one
def test_open_clip_random_weights_give_unit_norm_embeddings_of_the_model_dim(with_vision):
    emb = build_embedder(with_vision(embedder="open_clip", open_clip_arch="ViT-B-32"))
    assert emb.identity.version.endswith("random-init") and emb.identity.embedding_dim == 512
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 255, (112, 112, 3), dtype=np.uint8) for _ in range(3)]
    out = emb.embed_batch(crops)
    assert out.shape == (3, 512) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)
    assert emb.embed_batch([]).shape == (0, 512)
    single = emb.embed_batch(crops[:1])
    assert np.allclose(single[0], out[0], atol=1e-4)  # batching does not change a result
