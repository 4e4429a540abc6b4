package io.edgefleet.sync.client;

import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.chunks.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fetches runs of consecutive missing chunks of one variant with one ranged GET per run over the
 * variant's file ({@code /sync/v1/variants/{model}/{version}/{variant}}, RFC 9110 §14 single
 * range with {@code If-Range} on the file's hash). The body is split at the manifest's chunk
 * boundaries as it arrives: each chunk's bytes are gathered (up to {@link #BUFFER_BYTES}), hashed
 * once and written once, straight into the download's staging file at the chunk's offset
 * (positional writes: the runs of one download write the same file in parallel), and the chunk is
 * added to the staging file's index in the store ({@link ChunkStore.Seed}) only when it hashes to
 * the signed digest. A chunk that does not verify is remembered and the rest of the run still
 * used; {@link #fetch} returns those for the caller to fetch alone. A connection cut mid-run keeps
 * every finished chunk and the partial bytes of the chunk it cut (written, and recorded in the
 * index), and the next try asks only for what is left (the partial chunk resumed inside it). A
 * server that ignores {@code Range} (200) is read from the start, the bytes before the run skipped
 * (they count as fetched); a server without the variants resource (404: sync protocol 1.0) makes
 * {@link #fetch} return false so the caller fetches chunk by chunk.
 *
 * <p>Called from the download's worker threads, one run at a time per call; thread-safe.
 */
final class RunFetcher {
    /** One chunk at its first position in the variant's file. */
    record Piece(String sha256, long offset, long sizeBytes) {
        long end() {
            return offset + sizeBytes;
        }
    }

    /** Called once per chunk that verified and is in the store (bytes = its size). */
    interface Done {
        void chunk(long sizeBytes);
    }

    /** Largest read and write: a whole chunk (at most 256 KiB by {@code FastCdc}) in one write and one digest update. */
    static final int BUFFER_BYTES = 256 * 1024;

    /** Called once per chunk that verified and is in the staging file (its offset there, its hash). */
    interface Verified {
        void chunk(String sha256, long offset);
    }

    private final ChunkStore.Seed seed;
    private final Path staging;
    private final io.edgefleet.transport.http.HttpCredentials credentials;
    private final java.time.Duration timeout;
    private final RateLimiter limiter;
    private final AtomicLong fetched;
    private final Verified verified;
    private final Flusher flusher;

    RunFetcher(ChunkStore.Seed seed, Path staging, io.edgefleet.transport.http.HttpCredentials credentials,
            java.time.Duration timeout, RateLimiter limiter, AtomicLong fetched, Verified verified, Flusher flusher) {
        this.flusher = flusher;
        this.seed = seed;
        this.staging = staging;
        this.credentials = credentials;
        this.timeout = timeout;
        this.limiter = limiter;
        this.fetched = fetched;
        this.verified = verified;
    }
    /** Splits pieces (in file order) into runs of consecutive ones, each at most {@code maxBytes} (a longer chunk is a run alone). */
    static List<List<Piece>> runs(List<Piece> pieces, long maxBytes) {
        List<List<Piece>> out = new ArrayList<>();
        List<Piece> cur = new ArrayList<>();
        long bytes = 0;
        for (Piece p : pieces) {
            boolean adjacent = !cur.isEmpty() && cur.get(cur.size() - 1).end() == p.offset();
            if (!cur.isEmpty() && (!adjacent || bytes + p.sizeBytes() > maxBytes)) {
                out.add(cur);
                cur = new ArrayList<>();
                bytes = 0;
            }
            cur.add(p);
            bytes += p.sizeBytes();
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }

    /**
     * One ranged request for a run, stopping at the first network error (an {@link IOException}:
     * the caller retries what is still missing).
     *
     * @param run consecutive pieces, in file order, none in the store yet
     * @param failed gets the hashes of chunks whose bytes did not verify (not stored)
     * @return false when the server has no variants resource (404): nothing was fetched
     */
    boolean fetch(URI variant, String fileSha256, List<Piece> run, Set<String> failed, Done done) throws IOException, InterruptedException {
        Piece head = run.get(0);
        long stagingBytes = Files.exists(staging, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? Files.size(staging) : 0;
        // a partial record whose bytes are not in the staging file (a power cut kept the journal line, not the file's
        // growth; the file truncated by hand) is dropped: the chunk is fetched whole instead of failing every try
        long have = seed.partial(head.sha256()).filter(p -> p.offset() == head.offset() && p.have() < head.sizeBytes())
                .filter(p -> p.offset() + p.have() <= stagingBytes)
                .map(ChunkStore.Partial::have).orElse(0L);
        long first = head.offset() + have;
        long last = run.get(run.size() - 1).end() - 1;
        // a blocking connection, read on this thread straight into the chunk's buffer; a stalled body fails the read
        // after the timeout (the try is then retried)
        HttpURLConnection c = credentials.open(variant, timeout, timeout);
        c.setRequestProperty("Range", "bytes=" + first + "-" + last);
        c.setRequestProperty("If-Range", "\"" + fileSha256 + "\"");
        boolean complete = false;
        try {
            int status = c.getResponseCode();
            switch (status) {
                case 206 -> {
                    String cr = Objects.requireNonNullElse(c.getHeaderField("Content-Range"), "");
                    if (!cr.startsWith("bytes " + first + "-" + last + "/")) {
                        throw new IOException("asked for bytes " + first + "-" + last + " of " + variant + ", the server sent '" + cr + "'");
                    }
                }
                case 200 -> have = 0; // Range ignored (RFC 9110 §14.2 allows it): the whole file, from byte 0
                case 404 -> {
                    return false;
                }
                default -> throw new IOException("variant " + variant + ": server answered " + status);
            }
            try (InputStream in = c.getInputStream()) {
                if (status == 200) {
                    skip(in, head.offset());
                }
                byte[] buf = new byte[BUFFER_BYTES];
                // a channel of its own: an interrupt (the download cancelled) closes this one, not the other runs'
                try (FileChannel out = FileChannel.open(staging, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
                    for (Piece p : run) {
                        long resumeAt = p == head ? have : 0;
                        receive(in, out, p, resumeAt, buf, failed, done);
                    }
                }
                // the run is complete; a server that sent more than asked leaves bytes behind: the connection is not reused
                complete = status == 206 && in.read() < 0;
            }
        } finally {
            if (!complete) {
                c.disconnect(); // never back in the pool with unread bytes or mid-body (a cut, a stall, an interrupt)
            }
        }
        return true;
    }

    private void skip(InputStream in, long n) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long left = n;
        while (left > 0) {
            int got = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (got < 0) {
                throw new IOException("connection closed " + left + " bytes before the run began");
            }
            fetched.addAndGet(got);
            left -= got;
        }
    }

    /**
     * Reads one chunk's bytes (after {@code resumeAt} already in the staging file): gathered, hashed
     * and written at the chunk's offset once, indexed when it verifies. On a cut the bytes that
     * arrived are written and recorded as the chunk's partial bytes before the error goes up.
     */
    private void receive(InputStream in, FileChannel out, Piece p, long resumeAt, byte[] buf, Set<String> failed, Done done) throws IOException {
        MessageDigest digest = Sha256.digest();
        if (resumeAt > 0) { // the partial bytes from before the cut, read back from the staging file
            ByteBuffer old = ByteBuffer.wrap(buf, 0, (int) Math.min(buf.length, resumeAt));
            long pos = 0;
            while (pos < resumeAt) {
                old.clear().limit((int) Math.min(buf.length, resumeAt - pos));
                int n = out.read(old, p.offset() + pos);
                if (n < 0) {
                    throw new IOException("the staging file " + staging + " is shorter than its index says");
                }
                digest.update(buf, 0, n);
                pos += n;
            }
        }
        long written = resumeAt; // bytes of the chunk in the staging file
        long left = p.sizeBytes() - resumeAt;
        int filled = 0;
        try {
            while (left > 0) {
                int n = in.read(buf, filled, (int) Math.min(buf.length - filled, left));
                if (n < 0) {
                    throw new IOException("connection closed with " + left + " bytes of chunk " + p.sha256() + " to come");
                }
                limiter.acquire(n);
                fetched.addAndGet(n);
                filled += n;
                left -= n;
                if (filled == buf.length || left == 0) {
                    written = write(out, p, written, buf, filled, digest);
                    filled = 0;
                }
            }
        } catch (IOException | InterruptedException e) {
            if (filled > 0 && out.isOpen()) { // what arrived survives the cut: the next try resumes after it
                try {
                    written = write(out, p, written, buf, filled, digest);
                } catch (IOException ignored) {
                    // the partial record below says how far it got
                }
            }
            if (written > 0 && out.isOpen()) {
                seed.partial(p.sha256(), p.offset(), written);
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            throw (IOException) e;
        }
        String actual = HexFormat.of().formatHex(digest.digest());
        if (!actual.equals(p.sha256())) {
            failed.add(p.sha256());
            return;
        }
        seed.add(p.sha256(), p.offset(), p.sizeBytes());
        verified.chunk(p.sha256(), p.offset());
        done.chunk(p.sizeBytes());
    }

    /** Writes {@code n} bytes of {@code buf} at the chunk's offset plus {@code at}, hashing them; returns the new count written. */
    private long write(FileChannel out, Piece p, long at, byte[] buf, int n, MessageDigest digest) throws IOException {
        digest.update(buf, 0, n);
        ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
        long pos = p.offset() + at;
        while (bb.hasRemaining()) {
            pos += out.write(bb, pos);
        }
        flusher.wrote(n);
        return at + n;
    }
}
