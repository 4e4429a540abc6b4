package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Numbers for people: an integral value without a fraction, any other with at most four
 * significant digits ({@code 0.1234}, {@code 12.35}, {@code 1235}), never the 16 digits of a
 * {@code double}'s {@code toString}. Text and booleans pass through as they are.
 */
final class Numbers {
    private Numbers() {
    }

    static String human(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return Double.isNaN(v) ? "n/a" : (v > 0 ? "inf" : "-inf");
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        BigDecimal d = new BigDecimal(v).round(new MathContext(4, RoundingMode.HALF_EVEN)).stripTrailingZeros();
        return d.abs().compareTo(BigDecimal.valueOf(1_000_000)) >= 0 ? String.format(java.util.Locale.ROOT, "%.3e", v) : d.toPlainString();
    }

    /** A JSON value for a line of text: numbers by {@link #human(double)}, text unquoted, other values as JSON. */
    static String human(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return "-";
        }
        if (n.isIntegralNumber()) {
            return n.asText();
        }
        if (n.isNumber()) {
            return human(n.asDouble());
        }
        if (n.isTextual()) {
            return n.asText();
        }
        if (n.isArray()) {
            java.util.List<String> parts = new java.util.ArrayList<>();
            n.forEach(x -> parts.add(human(x)));
            return "[" + String.join(", ", parts) + "]";
        }
        if (n.isObject()) {
            java.util.List<String> parts = new java.util.ArrayList<>();
            n.properties().forEach(e -> parts.add(e.getKey() + "=" + human(e.getValue())));
            return "{" + String.join(", ", parts) + "}";
        }
        return n.toString();
    }
}
