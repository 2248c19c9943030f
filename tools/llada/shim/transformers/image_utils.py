"""transformers.image_utils names used by LLaDA-V's SigLIP processor (transformers 4.40 semantics)."""
import enum

import numpy as np
import PIL.Image


class ChannelDimension(str, enum.Enum):
    FIRST = "channels_first"
    LAST = "channels_last"


class PILImageResampling(enum.IntEnum):
    NEAREST = PIL.Image.NEAREST
    LANCZOS = PIL.Image.LANCZOS
    BILINEAR = PIL.Image.BILINEAR
    BICUBIC = PIL.Image.BICUBIC
    BOX = PIL.Image.BOX
    HAMMING = PIL.Image.HAMMING


def to_numpy_array(img):
    if isinstance(img, PIL.Image.Image):
        return np.array(img)
    return np.asarray(img)


def infer_channel_dimension_format(image, num_channels=None):
    num_channels = num_channels if num_channels is not None else (1, 3)
    num_channels = (num_channels,) if isinstance(num_channels, int) else num_channels
    if image.ndim == 3:
        first_dim, last_dim = 0, 2
    elif image.ndim == 4:
        first_dim, last_dim = 1, 3
    else:
        raise ValueError(f"Unsupported number of image dimensions: {image.ndim}")
    if image.shape[first_dim] in num_channels:
        return ChannelDimension.FIRST
    if image.shape[last_dim] in num_channels:
        return ChannelDimension.LAST
    raise ValueError("Unable to infer channel dimension format")


def get_channel_dimension_axis(image, input_data_format=None):
    if input_data_format is None:
        input_data_format = infer_channel_dimension_format(image)
    if input_data_format == ChannelDimension.FIRST:
        return image.ndim - 3
    return image.ndim - 1
