"""transformers.image_transforms functions used by LLaDA-V's SigLIP processor, written to the
semantics of transformers 4.40 (the version LLaDA-V pins): resize goes through PIL (a uint8 image is
not rescaled), rescale multiplies in float64 then casts to float32, normalize works in the image's
float dtype with mean/std cast to it. See tools/llada/shim/README.md."""
import numpy as np
import PIL.Image

from .image_utils import ChannelDimension, PILImageResampling, infer_channel_dimension_format


def to_channel_dimension_format(image, channel_dim, input_channel_dim=None):
    if input_channel_dim is None:
        input_channel_dim = infer_channel_dimension_format(image)
    target = ChannelDimension(channel_dim)
    if ChannelDimension(input_channel_dim) == target:
        return image
    if target == ChannelDimension.FIRST:
        return image.transpose((2, 0, 1))
    return image.transpose((1, 2, 0))


def convert_to_rgb(image):
    if not isinstance(image, PIL.Image.Image):
        return image
    return image.convert("RGB")


def rescale(image, scale, data_format=None, dtype=np.float32, input_data_format=None):
    rescaled = image.astype(np.float64) * scale
    if data_format is not None:
        rescaled = to_channel_dimension_format(rescaled, data_format, input_data_format)
    return rescaled.astype(dtype)


def _rescale_for_pil_conversion(image):
    if image.dtype == np.uint8:
        return False
    if np.allclose(image, image.astype(int)):
        if np.all(0 <= image) and np.all(image <= 255):
            return False
        raise ValueError("image values outside [0, 255]")
    if np.all(0 <= image) and np.all(image <= 1):
        return True
    raise ValueError("image values outside [0, 1]")


def to_pil_image(image, do_rescale=None, input_data_format=None):
    if isinstance(image, PIL.Image.Image):
        return image
    image = to_channel_dimension_format(image, ChannelDimension.LAST, input_data_format)
    image = np.squeeze(image, axis=-1) if image.shape[-1] == 1 else image
    do_rescale = _rescale_for_pil_conversion(image) if do_rescale is None else do_rescale
    if do_rescale:
        image = rescale(image, 255)
    image = image.astype(np.uint8)
    return PIL.Image.fromarray(image)


def resize(image, size, resample=None, reducing_gap=None, data_format=None, return_numpy=True,
           input_data_format=None):
    resample = resample if resample is not None else PILImageResampling.BILINEAR
    if len(size) != 2:
        raise ValueError("size must have 2 elements")
    if input_data_format is None:
        input_data_format = infer_channel_dimension_format(image, num_channels=(1, 3, 4))
    data_format = input_data_format if data_format is None else data_format
    do_rescale = False
    if not isinstance(image, PIL.Image.Image):
        do_rescale = _rescale_for_pil_conversion(image)
        image = to_pil_image(image, do_rescale=do_rescale, input_data_format=input_data_format)
    height, width = size
    resized = image.resize((width, height), resample=resample, reducing_gap=reducing_gap)
    if return_numpy:
        resized = np.array(resized)
        resized = np.expand_dims(resized, axis=-1) if resized.ndim == 2 else resized
        resized = to_channel_dimension_format(resized, data_format, input_channel_dim=ChannelDimension.LAST)
        resized = rescale(resized, 1 / 255) if do_rescale else resized
    return resized


def normalize(image, mean, std, data_format=None, input_data_format=None):
    if input_data_format is None:
        input_data_format = infer_channel_dimension_format(image)
    if not np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float32)
    mean = np.array(mean, dtype=image.dtype)
    std = np.array(std, dtype=image.dtype)
    if input_data_format == ChannelDimension.LAST:
        image = (image - mean) / std
    else:
        image = ((image.T - mean) / std).T
    if data_format is not None:
        image = to_channel_dimension_format(image, data_format, input_data_format)
    return image
