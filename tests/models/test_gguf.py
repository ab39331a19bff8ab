"""kedit.models.gguf: a GGUF file is parsed once per conversion, and the library is left as it was."""

import gguf
import numpy as np

from kedit.models.gguf import parsed_once


def _tiny_gguf(path):
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(2)
    w.add_token_list(["<s>", "hello", " wörld"])  # a string array, as a vocabulary is stored
    w.add_tensor("token_embd.weight", np.arange(12, dtype=np.float32).reshape(3, 4))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def test_one_reader_per_file_inside_the_block_and_fresh_ones_after(tmp_path):
    path = _tiny_gguf(tmp_path / "tiny.gguf")
    originals = gguf.GGUFReader, gguf.get_tensor_name_map
    with parsed_once():
        first = gguf.GGUFReader(path)
        assert gguf.GGUFReader(path) is first
        assert gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 2) is gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 2)
        np.testing.assert_array_equal(np.asarray(first.tensors[0].data).reshape(3, 4), np.arange(12, dtype=np.float32).reshape(3, 4))
        assert type(first.data) is np.ndarray  # sliced without numpy.memmap's Python hooks
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == originals
    assert gguf.GGUFReader(path) is not first


def test_the_plain_reader_reads_what_the_library_reads(tmp_path):
    path = _tiny_gguf(tmp_path / "tiny.gguf")
    with parsed_once():
        plain = gguf.GGUFReader(path)
    library = gguf.GGUFReader(path)
    assert list(plain.fields) == list(library.fields)
    for name, field in library.fields.items():
        ours = plain.fields[name]
        assert (ours.offset, ours.data, ours.types) == (field.offset, field.data, field.types)
        assert all(np.array_equal(a, b) for a, b in zip(ours.parts, field.parts, strict=True))
    assert [(t.name, t.data_offset) for t in plain.tensors] == [(t.name, t.data_offset) for t in library.tensors]
    np.testing.assert_array_equal(plain.tensors[0].data, library.tensors[0].data)


def test_the_library_is_restored_when_the_conversion_fails(tmp_path):
    originals = gguf.GGUFReader, gguf.get_tensor_name_map
    try:
        with parsed_once():
            raise OSError("disk full")
    except OSError:
        pass
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == originals
