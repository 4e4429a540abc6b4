package io.edgefleet.cloud.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A streaming {@code multipart/form-data} reader (RFC 7578): file parts go to files in a folder as
 * they arrive, so a 500 MB model never sits in memory; field parts (no filename) are kept as text
 * up to 64 KiB. Bounded: total bytes, number of parts, header size. (Helidon 4.5's multipart
 * module is not available from our repository mirror; this is the small subset the API needs.)
 */
public final class Multipart {
    private static final Pattern BOUNDARY = Pattern.compile("boundary=(?:\"([^\"]+)\"|([^;\\s]+))", Pattern.CASE_INSENSITIVE);
    private static final Pattern NAME = Pattern.compile("[;\\s]name=\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);
    private static final Pattern FILENAME = Pattern.compile("filename=\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);
    private static final int MAX_FIELD = 64 * 1024;
    private static final int MAX_HEADERS = 8 * 1024;
    private static final int MAX_PARTS = 64;
    /** Longest upload file name: it becomes part of a file name on disk, which most file systems cap at 255 bytes. */
    static final int MAX_FILE_NAME = 200;

    /** One part: a field ({@code value}) or a file ({@code file}, written under the folder given). */
    public record Part(String name, Optional<String> fileName, Optional<String> value, Optional<Path> file, long size) {
    }

    /** The request body is not valid multipart, or too big ({@code tooLarge}). */
    public static final class MultipartException extends RuntimeException {
        private final boolean tooLarge;

        MultipartException(String message, boolean tooLarge) {
            super(message);
            this.tooLarge = tooLarge;
        }

        public boolean tooLarge() {
            return tooLarge;
        }
    }

    private Multipart() {
    }

    public static String boundary(String contentType) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw new MultipartException("expected Content-Type multipart/form-data, got " + (contentType == null ? "none" : contentType), false);
        }
        Matcher m = BOUNDARY.matcher(contentType);
        if (!m.find()) {
            throw new MultipartException("multipart/form-data without a boundary parameter", false);
        }
        return m.group(1) != null ? m.group(1) : m.group(2);
    }

    /** Reads every part; files land in {@code dir} (which the caller deletes). */
    public static List<Part> read(InputStream body, String boundary, Path dir, long maxBytes) throws IOException {
        Reader r = new Reader(body, maxBytes);
        byte[] first = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        byte[] delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        // The preamble, up to the first boundary line.
        if (!r.skipTo(first)) {
            throw new MultipartException("no multipart boundary found in the body", false);
        }
        List<Part> parts = new ArrayList<>();
        while (true) {
            byte[] after = r.readN(2);
            if (after[0] == '-' && after[1] == '-') {
                return parts; // closing delimiter
            }
            if (after[0] != '\r' || after[1] != '\n') {
                throw new MultipartException("malformed boundary line", false);
            }
            if (parts.size() == MAX_PARTS) {
                throw new MultipartException("more than " + MAX_PARTS + " parts", true);
            }
            String headers = r.headers();
            Matcher n = NAME.matcher(";" + headers);
            if (!n.find()) {
                throw new MultipartException("a part has no Content-Disposition name", false);
            }
            Matcher f = FILENAME.matcher(headers);
            String name = n.group(1);
            if (f.find()) {
                if (f.group(1).length() > MAX_FILE_NAME) {
                    throw new MultipartException("a file name is longer than " + MAX_FILE_NAME + " characters", false);
                }
                String fileName = Path.of(f.group(1).replace('\\', '/')).getFileName() == null ? "file"
                        : Path.of(f.group(1).replace('\\', '/')).getFileName().toString();
                Path target = dir.resolve(parts.size() + "-" + sanitize(fileName));
                long size;
                try (OutputStream out = Files.newOutputStream(target)) {
                    size = r.copyUntil(delimiter, out, Long.MAX_VALUE);
                }
                parts.add(new Part(name, Optional.of(fileName), Optional.empty(), Optional.of(target), size));
            } else {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                long size = r.copyUntil(delimiter, out, MAX_FIELD);
                parts.add(new Part(name, Optional.empty(), Optional.of(out.toString(StandardCharsets.UTF_8)), Optional.empty(), size));
            }
        }
    }

    private static String sanitize(String s) {
        String clean = s.replaceAll("[^A-Za-z0-9._-]", "_");
        return clean.isEmpty() || clean.startsWith(".") ? "file" + clean : clean;
    }

    /** A byte reader with a small look-ahead buffer and a byte budget. */
    private static final class Reader {
        private final InputStream in;
        private final long maxBytes;
        private final byte[] buf = new byte[64 * 1024];
        private int pos;
        private int end;
        private long total;
        private boolean eof;

        Reader(InputStream in, long maxBytes) {
            this.in = in;
            this.maxBytes = maxBytes;
        }

        /** Makes at least {@code n} bytes available, unless the stream ends. */
        private boolean fill(int n) throws IOException {
            if (end - pos >= n) {
                return true;
            }
            if (pos > 0) {
                System.arraycopy(buf, pos, buf, 0, end - pos);
                end -= pos;
                pos = 0;
            }
            while (end - pos < n && !eof) {
                int k = in.read(buf, end, buf.length - end);
                if (k < 0) {
                    eof = true;
                } else {
                    end += k;
                    total += k;
                    if (total > maxBytes) {
                        throw new MultipartException("the upload exceeds the limit of " + maxBytes + " bytes", true);
                    }
                }
            }
            return end - pos >= n;
        }

        byte[] readN(int n) throws IOException {
            if (!fill(n)) {
                throw new MultipartException("the body ends in the middle of a part", false);
            }
            byte[] out = java.util.Arrays.copyOfRange(buf, pos, pos + n);
            pos += n;
            return out;
        }

        boolean skipTo(byte[] marker) throws IOException {
            try {
                copyUntil(marker, OutputStream.nullOutputStream(), Long.MAX_VALUE);
                return true;
            } catch (MultipartException e) {
                if (e.tooLarge()) {
                    throw e;
                }
                return false;
            }
        }

        String headers() throws IOException {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            try {
                copyUntil("\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), out, MAX_HEADERS);
            } catch (MultipartException e) {
                if (out.size() >= MAX_HEADERS) {
                    throw new MultipartException("part headers longer than " + MAX_HEADERS + " bytes", false);
                }
                throw e;
            }
            return out.toString(StandardCharsets.UTF_8);
        }

        /** Copies bytes up to {@code marker} (consumed, not copied). */
        long copyUntil(byte[] marker, OutputStream out, long limit) throws IOException {
            long copied = 0;
            while (true) {
                boolean more = fill(Math.min(buf.length, marker.length + 4096));
                int found = indexOf(buf, pos, end, marker);
                if (found >= 0) {
                    copied += found - pos;
                    check(copied, limit);
                    out.write(buf, pos, found - pos);
                    pos = found + marker.length;
                    return copied;
                }
                if (!more && eof && end - pos < marker.length) {
                    throw new MultipartException("the body ends before the closing boundary", false);
                }
                int safe = end - pos - (marker.length - 1);
                if (safe > 0) {
                    copied += safe;
                    check(copied, limit);
                    out.write(buf, pos, safe);
                    pos += safe;
                } else if (eof) {
                    throw new MultipartException("the body ends before the closing boundary", false);
                }
            }
        }

        private static void check(long copied, long limit) {
            if (copied > limit) {
                throw new MultipartException("a form field is longer than " + limit + " bytes", false);
            }
        }

        private static int indexOf(byte[] a, int from, int to, byte[] m) {
            outer:
            for (int i = from; i <= to - m.length; i++) {
                for (int j = 0; j < m.length; j++) {
                    if (a[i + j] != m[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }
    }
}
