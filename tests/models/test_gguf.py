"""kedit.models.gguf: a GGUF file is parsed once per conversion, and the library is left as it was."""

import gguf
import numpy as np

from kedit.models.gguf import parsed_once


def _tiny_gguf(path):
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(2)
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
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == originals
    assert gguf.GGUFReader(path) is not first


def test_the_library_is_restored_when_the_conversion_fails(tmp_path):
    originals = gguf.GGUFReader, gguf.get_tensor_name_map
    try:
        with parsed_once():
            raise OSError("disk full")
    except OSError:
        pass
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == originals
