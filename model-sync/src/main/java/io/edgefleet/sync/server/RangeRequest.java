package io.edgefleet.sync.server;

import io.helidon.http.DateTime;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a GET with {@code Range} (and {@code If-Range}) gets, per RFC 9110 §13.1.5 and §14. A pure
 * function of the request headers and the representation's validators; the caller writes the answer.
 *
 * <ul>
 *   <li>No {@code Range}, a unit other than {@code bytes}, or an invalid ranges-specifier (bad
 *       syntax, {@code bytes=50-10} with last &lt; first): the header is ignored, {@link Full} (200).
 *   <li>{@code If-Range} that does not hold: {@link Full}. It holds when it is an entity tag equal,
 *       by strong comparison, to the representation's (a weak tag {@code W/"…"} never holds), or an
 *       HTTP-date (IMF-fixdate, RFC 850 or asctime form) equal to its {@code Last-Modified}.
 *   <li>Several ranges ({@code bytes=0-9,20-29}): {@link Full}. RFC 9110 §14.2 lets a server ignore
 *       {@code Range}; the sync client asks for one range only, so {@code multipart/byteranges}
 *       would be code nothing uses.
 *   <li>One range that starts at or beyond the length, or a suffix of 0 bytes (also any range of an
 *       empty representation): {@link Unsatisfiable} (416 with {@code Content-Range: bytes *}{@code /LEN}).
 *   <li>Otherwise {@link Partial} (206), the last position clipped to the length, a suffix longer
 *       than the representation giving all of it.
 * </ul>
 */
public final class RangeRequest {
    private static final Pattern ONE = Pattern.compile("(\\d*)-(\\d*)");

    private RangeRequest() {
    }

    /** The answer to give. */
    public sealed interface Answer permits Full, Partial, Unsatisfiable {
    }

    /** 200 with the whole representation. */
    public record Full() implements Answer {
    }

    /** 206 with bytes {@code first..last}, inclusive, zero-based. */
    public record Partial(long first, long last) implements Answer {
        public long length() {
            return last - first + 1;
        }
    }

    /** 416 with {@code Content-Range: bytes *}{@code /length}. */
    public record Unsatisfiable() implements Answer {
    }

    /**
     * @param range the {@code Range} field value, if sent
     * @param ifRange the {@code If-Range} field value, if sent
     * @param etag the representation's strong entity tag, with its quotes
     * @param lastModified the representation's {@code Last-Modified}, in whole seconds
     * @param length the representation's length in bytes
     */
    public static Answer decide(Optional<String> range, Optional<String> ifRange, String etag, Instant lastModified, long length) {
        if (range.isEmpty()) {
            return new Full();
        }
        if (ifRange.isPresent() && !ifRangeHolds(ifRange.get().strip(), etag, lastModified)) {
            return new Full();
        }
        String value = range.get().strip();
        int eq = value.indexOf('=');
        if (eq < 0 || !value.substring(0, eq).strip().toLowerCase(Locale.ROOT).equals("bytes")) {
            return new Full(); // a range unit we do not know: ignored
        }
        String[] specs = value.substring(eq + 1).split(",", -1);
        long[][] parsed = new long[specs.length][];
        for (int i = 0; i < specs.length; i++) {
            parsed[i] = spec(specs[i].strip());
            if (parsed[i] == null) {
                return new Full(); // invalid ranges-specifier: ignored (§14.2)
            }
        }
        if (parsed.length > 1) {
            return new Full(); // several ranges: we send the whole representation (§14.2 allows ignoring Range)
        }
        long[] r = parsed[0];
        if (r[0] < 0) { // suffix: the last r[1] bytes
            if (r[1] == 0 || length == 0) {
                return new Unsatisfiable();
            }
            return new Partial(Math.max(0, length - r[1]), length - 1);
        }
        if (r[0] >= length) {
            return new Unsatisfiable();
        }
        return new Partial(r[0], Math.min(r[1], length - 1));
    }

    /** {first, last} (last = MAX for an open range), {-1, suffixLength}, or null when invalid. */
    private static long[] spec(String s) {
        Matcher m = ONE.matcher(s);
        if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
            return null;
        }
        if (m.group(1).isEmpty()) {
            return new long[] {-1, number(m.group(2))};
        }
        long first = number(m.group(1));
        long last = m.group(2).isEmpty() ? Long.MAX_VALUE : number(m.group(2));
        return last < first ? null : new long[] {first, last};
    }

    /** A non-negative decimal; values past {@code Long.MAX_VALUE} saturate (they are beyond any length anyway). */
    private static long number(String digits) {
        String d = digits.replaceFirst("^0+(?=.)", "");
        return d.length() > 18 ? Long.MAX_VALUE : Long.parseLong(d);
    }

    private static boolean ifRangeHolds(String validator, String etag, Instant lastModified) {
        if (validator.startsWith("\"") || validator.startsWith("W/")) {
            return validator.equals(etag); // strong comparison: a weak tag never matches
        }
        try {
            return DateTime.parse(validator).toInstant().equals(lastModified.truncatedTo(ChronoUnit.SECONDS));
        } catch (DateTimeException | IllegalArgumentException e) {
            return false; // neither an entity tag nor an HTTP-date: the condition cannot hold
        }
    }
}
