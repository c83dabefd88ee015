using SkiaSharp;

namespace ZetaPrep.Imaging;

/// <summary>The one affine map from decoded (stored, possibly scaled) pixels to the S×S output: EXIF orientation, then crop/pad/stretch.</summary>
/// <remarks>Doing orientation and resize as a single matrix means one resampling pass and no rotated intermediate copy.</remarks>
internal static class ResizeTransform
{
    /// <summary>True when the EXIF origin turns the image a quarter (display width = stored height).</summary>
    public static bool SwapsAxes(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>Matrix from stored pixel space (<paramref name="width"/>×<paramref name="height"/>) to output space (size×size).</summary>
    /// <param name="downscale">How many display pixels of the source feed one output pixel along the more-reduced axis (≤ 1 means upsampling).</param>
    public static SKMatrix Create(int width, int height, SKEncodedOrigin origin, int size, ResizeMode mode, out double downscale)
    {
        // Stored → display (EXIF 2.32 orientation tag; "RightTop" = 6 = rotate 90° clockwise to view).
        float w = width, h = height;
        (float sx, float kx, float tx, float ky, float sy, float ty) = origin switch
        {
            SKEncodedOrigin.TopRight => (-1f, 0f, w, 0f, 1f, 0f),
            SKEncodedOrigin.BottomRight => (-1f, 0f, w, 0f, -1f, h),
            SKEncodedOrigin.BottomLeft => (1f, 0f, 0f, 0f, -1f, h),
            SKEncodedOrigin.LeftTop => (0f, 1f, 0f, 1f, 0f, 0f),
            SKEncodedOrigin.RightTop => (0f, -1f, h, 1f, 0f, 0f),
            SKEncodedOrigin.RightBottom => (0f, -1f, h, -1f, 0f, w),
            SKEncodedOrigin.LeftBottom => (0f, 1f, 0f, -1f, 0f, w),
            _ => (1f, 0f, 0f, 0f, 1f, 0f),
        };
        bool swap = SwapsAxes(origin);
        double dw = swap ? height : width, dh = swap ? width : height;

        // Display → output: an axis-aligned scale (px, py) and offset (ox, oy).
        double px, py, ox, oy;
        switch (mode)
        {
            case ResizeMode.Crop:
                {
                    double side = Math.Min(dw, dh);
                    px = py = size / side;
                    ox = -(dw - side) / 2 * px;
                    oy = -(dh - side) / 2 * py;
                    break;
                }
            case ResizeMode.Pad:
                {
                    // Round the placed image to whole pixels so the bars are exact black and the edges are not blended.
                    double longest = Math.Max(dw, dh);
                    int pw = Math.Max(1, (int)Math.Round(dw * size / longest));
                    int ph = Math.Max(1, (int)Math.Round(dh * size / longest));
                    px = pw / dw;
                    py = ph / dh;
                    ox = (size - pw) / 2;
                    oy = (size - ph) / 2;
                    break;
                }
            case ResizeMode.Stretch:
                px = size / dw;
                py = size / dh;
                ox = oy = 0;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown resize mode");
        }

        downscale = Math.Max(1 / px, 1 / py);
        float fx = (float)px, fy = (float)py;
        return new SKMatrix(
            fx * sx, fx * kx, (fx * tx) + (float)ox,
            fy * ky, fy * sy, (fy * ty) + (float)oy,
            0f, 0f, 1f);
    }
}
