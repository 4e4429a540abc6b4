package io.edgefleet.protocols.drift;

import com.tdunning.math.stats.MergingDigest;
import io.edgefleet.protocols.ProtocolException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Base64;

/**
 * One feature's values over a window: mergeable moments and a t-digest quantile sketch (Dunning's merging digest,
 * {@code com.tdunning:t-digest}, "small" encoding, base64).
 *
 * @param count values seen
 * @param mean their mean (0 when {@code count} is 0)
 * @param m2 the sum of squared deviations from the mean (Welford; merged with Chan et al.'s parallel formula), so the
 *     sample variance is {@code m2 / (count - 1)}
 * @param digest the t-digest of the values, base64 of {@code MergingDigest.asSmallBytes}; at most
 *     {@link #MAX_DIGEST_CHARS} characters
 */
public record FeatureSketch(long count, double mean, double m2, String digest) {
    /** Digest accuracy: about 2 × 50 centroids, a few hundred bytes on the wire; cdf error well under 1 % in the middle. */
    public static final double COMPRESSION = 50;
    /** The largest digest accepted, in base64 characters: enough for {@link #COMPRESSION} up to 100. */
    public static final int MAX_DIGEST_CHARS = 4096;
    /** The largest magnitude of a mean accepted. */
    public static final double MAX_ABS_MEAN = 1e100;
    /** The largest sum of squared deviations accepted. */
    public static final double MAX_M2 = 1e280;

    public FeatureSketch {
        if (count < 0) {
            throw new ProtocolException("count", "must be >= 0, got " + count);
        }
        if (!Double.isFinite(mean) || !Double.isFinite(m2) || m2 < 0) {
            throw new ProtocolException("m2", "mean and m2 must be finite and m2 >= 0");
        }
        // bounds far beyond any model input (FP32 ends at 3.4e38) that keep every merge finite: a mean of 1e200 squared
        // overflowed to infinity inside the cloud's merge and broke the judging of every window after it
        if (Math.abs(mean) > MAX_ABS_MEAN || m2 > MAX_M2) {
            throw new ProtocolException("mean", "a mean beyond ±1e100 or an m2 beyond 1e280 is not a statistic of model inputs");
        }
        if (digest == null || digest.length() > MAX_DIGEST_CHARS) {
            throw new ProtocolException("digest", "required, at most " + MAX_DIGEST_CHARS + " base64 characters");
        }
    }

    /** The sample variance, 0 below two values. */
    public double variance() {
        return count > 1 ? m2 / (count - 1) : 0;
    }

    /** The digest's cut of this sketch. */
    public static FeatureSketch of(long count, double mean, double m2, MergingDigest d) {
        d.compress();
        ByteBuffer b = ByteBuffer.allocate(d.smallByteSize());
        d.asSmallBytes(b);
        return new FeatureSketch(count, mean, m2, Base64.getEncoder().encodeToString(b.array()));
    }

    /**
     * Decodes the digest. The header is checked before the library sizes its arrays from it, so a hostile sketch cannot
     * make the receiver allocate more than a few kilobytes.
     *
     * @throws ProtocolException when it is not a small-encoded merging digest of compression 10..200 and at most 1,000 centroids
     */
    public MergingDigest decode() {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(digest);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("digest", "not base64");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        try {
            int encoding = b.getInt();
            double min = b.getDouble();
            double max = b.getDouble();
            float compression = b.getFloat();
            short buffer = b.getShort();
            short centroids = b.getShort();
            if (encoding != 2 || !(compression >= 10 && compression <= 200) || buffer < 0 || buffer > 2000 || centroids < 0
                    || centroids > 1000) {
                throw new ProtocolException("digest", "not a small-encoded t-digest of compression 10..200 with at most 1000 centroids");
            }
            // an empty digest holds min +inf, max -inf; any other needs finite bounds in order: the library's cdf
            // interpolates from them, and an infinite one made it NaN (a NaN PSI, judged within any threshold)
            if (count > 0 && !(Double.isFinite(min) && Double.isFinite(max) && min <= max && Math.abs(min) <= MAX_ABS_MEAN
                    && Math.abs(max) <= MAX_ABS_MEAN)) {
                throw new ProtocolException("digest", "a min or max that is not finite, out of range or out of order");
            }
            b.rewind();
            MergingDigest d = MergingDigest.fromBytes(b);
            if (d.size() != count) {
                throw new ProtocolException("digest", "holds " + d.size() + " values, the sketch says " + count);
            }
            for (com.tdunning.math.stats.Centroid c : d.centroids()) { // the header is checked above; the centroids here
                if (!Double.isFinite(c.mean()) || Math.abs(c.mean()) > MAX_ABS_MEAN || c.count() <= 0) {
                    throw new ProtocolException("digest", "a centroid with a non-finite or out-of-range mean or a count below 1");
                }
            }
            return d;
        } catch (BufferUnderflowException | IllegalArgumentException | IllegalStateException | ArrayIndexOutOfBoundsException e) {
            throw new ProtocolException("digest", "truncated or malformed t-digest");
        }
    }
}
