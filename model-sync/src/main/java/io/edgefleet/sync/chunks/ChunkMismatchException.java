package io.edgefleet.sync.chunks;

/** Bytes that do not hash to the chunk id they were fetched as: a tampered or corrupted chunk. */
public final class ChunkMismatchException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ChunkMismatchException(String expected, String actual) {
        super("chunk " + expected + " does not verify: its bytes hash to " + actual);
    }
}
