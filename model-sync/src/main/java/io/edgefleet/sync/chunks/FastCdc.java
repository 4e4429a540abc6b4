package io.edgefleet.sync.chunks;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Content-defined chunking (FastCDC with normalised chunking, Xia et al., USENIX ATC 2016): a
 * gear rolling hash over the bytes cuts a chunk where the hash matches a mask, so an edit moves
 * only the boundaries near it and every other chunk keeps its bytes and its hash.
 *
 * <p>Parameters: minimum 16 KiB, average 64 KiB, maximum 256 KiB; below the average the cut mask
 * has 18 bits set (harder), above it 14 (easier), which keeps sizes close to the average. The gear
 * table comes from a fixed seed, so the same bytes give the same chunks on every machine and in
 * every version of this class: changing any of this changes every chunk id in every store.
 */
public final class FastCdc {
    public static final int MIN_SIZE = 16 * 1024;
    public static final int AVG_SIZE = 64 * 1024;
    public static final int MAX_SIZE = 256 * 1024;
    private static final long MASK_SMALL = mask(18);
    private static final long MASK_LARGE = mask(14);
    private static final long[] GEAR = new long[256];

    static {
        SplittableRandom r = new SplittableRandom(0x45646765466c6565L); // "EdgeFlee"
        for (int i = 0; i < 256; i++) {
            GEAR[i] = r.nextLong();
        }
    }

    private FastCdc() {
    }

    private static long mask(int bits) {
        // spread the bits over the word, as FastCDC does, so they sample more of the window
        long m = 0;
        for (int i = 0, set = 0; set < bits && i < 64; i += 3, set++) {
            m |= 1L << (63 - i);
        }
        return m;
    }

    /** Chunk boundaries of {@code data}: the end offset (exclusive) of each chunk, in order. */
    public static List<Integer> cuts(byte[] data) {
        List<Integer> out = new ArrayList<>();
        int start = 0;
        while (start < data.length) {
            int end = start + next(data, start, data.length - start);
            out.add(end);
            start = end;
        }
        return out;
    }

    /** Length of the chunk that starts at {@code offset}. */
    static int next(byte[] data, int offset, int remaining) {
        if (remaining <= MIN_SIZE) {
            return remaining;
        }
        int max = Math.min(remaining, MAX_SIZE);
        int normal = Math.min(max, AVG_SIZE);
        long hash = 0;
        int i = MIN_SIZE;
        for (; i < normal; i++) {
            hash = (hash << 1) + GEAR[data[offset + i] & 0xff];
            if ((hash & MASK_SMALL) == 0) {
                return i + 1;
            }
        }
        for (; i < max; i++) {
            hash = (hash << 1) + GEAR[data[offset + i] & 0xff];
            if ((hash & MASK_LARGE) == 0) {
                return i + 1;
            }
        }
        return max;
    }
}
