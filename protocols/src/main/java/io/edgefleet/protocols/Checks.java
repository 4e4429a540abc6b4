package io.edgefleet.protocols;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Validation helpers for the compact constructors of wire records. Each throws
 * {@link ProtocolException} naming the field, so a decoder can prefix the enclosing path.
 */
public final class Checks {
    /**
     * Fleet ids, device ids, model names and versions: safe in an MQTT topic segment, a URL path
     * and a file name. Ids made only of dots ({@code .}, {@code ..}) are refused: as a path segment
     * they name the folder itself or its parent (the agent and the registry store files under
     * {@code model/version}), and URL clients normalise them away.
     */
    public static final Pattern ID = Pattern.compile("(?!\\.+$)[A-Za-z0-9._-]{1,64}");
    /** The rule of {@link #ID}, in words, for error messages. */
    public static final String ID_RULE = "1 to 64 characters of A-Z a-z 0-9 . _ -, not only dots";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private Checks() {
    }

    public static <T> T required(T value, String field) {
        if (value == null) {
            throw new ProtocolException(field, "is required");
        }
        return value;
    }

    public static String requiredText(String value, String field) {
        required(value, field);
        if (value.isBlank()) {
            throw new ProtocolException(field, "must not be blank");
        }
        return value;
    }

    /** An identifier ({@link #ID}): MQTT wildcards, slashes, empty values and {@code .}/{@code ..} are refused. */
    public static String id(String value, String field) {
        required(value, field);
        if (!ID.matcher(value).matches()) {
            throw new ProtocolException(field, "'" + printable(value) + "' is not a valid id: " + ID_RULE);
        }
        return value;
    }

    public static String sha256(String value, String field) {
        required(value, field);
        if (!SHA256.matcher(value).matches()) {
            throw new ProtocolException(field, "'" + printable(value) + "' is not a SHA-256: 64 lowercase hex digits");
        }
        return value;
    }

    public static long nonNegative(long value, String field) {
        if (value < 0) {
            throw new ProtocolException(field, "must be >= 0, got " + value);
        }
        return value;
    }

    public static double finiteNonNegative(double value, String field) {
        if (!Double.isFinite(value) || value < 0) {
            throw new ProtocolException(field, "must be a finite number >= 0, got " + value);
        }
        return value;
    }

    public static double fraction(double value, String field) {
        if (!(value >= 0.0 && value <= 1.0)) {
            throw new ProtocolException(field, "must be between 0 and 1, got " + value);
        }
        return value;
    }

    public static void schemaVersion(int value, int supported, String message) {
        if (value < 1 || value > supported) {
            throw new ProtocolException("schemaVersion", message + " schema version " + value
                    + " is not supported (this build reads 1.." + supported + ")");
        }
    }

    /** An immutable copy of a list that must be present and hold no nulls. */
    public static <T> List<T> list(List<T> value, String field) {
        required(value, field);
        for (int i = 0; i < value.size(); i++) {
            if (value.get(i) == null) {
                throw new ProtocolException(field + "[" + i + "]", "must not be null");
            }
        }
        return List.copyOf(value);
    }

    /** As {@link #list} but an absent list means empty. */
    public static <T> List<T> optionalList(List<T> value, String field) {
        return value == null ? List.of() : list(value, field);
    }

    /** An unmodifiable, order-keeping copy of a map with no null keys or values; absent means empty. */
    public static <K, V> Map<K, V> optionalMap(Map<K, V> value, String field) {
        if (value == null) {
            return Map.of();
        }
        for (Map.Entry<K, V> e : value.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new ProtocolException(field + "." + e.getKey(), "must not be null");
            }
        }
        return java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(value));
    }

    /** Refuses a list of names with a repeat, naming the second occurrence. */
    public static void unique(List<String> names, String field, String nameField) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < names.size(); i++) {
            if (!seen.add(names.get(i))) {
                throw new ProtocolException(field + "[" + i + "]." + nameField, "'" + names.get(i) + "' appears twice");
            }
        }
    }

    public static void notEmpty(Collection<?> value, String field) {
        if (value.isEmpty()) {
            throw new ProtocolException(field, "must not be empty");
        }
    }

    /** Shortens and escapes a value for an error message, so hostile input cannot flood logs. */
    public static String printable(String value) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < value.length() && sb.length() < 80; i++) {
            char c = value.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return value.length() > 80 ? sb + "..." : sb.toString();
    }
}
