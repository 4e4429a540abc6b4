package io.edgefleet.protocols.oip;

import io.edgefleet.protocols.ProtocolException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code parameters} object of the v2 protocol: names mapped to a string, a number or a
 * boolean. Numbers are held as {@link Long} when integral and {@link Double} otherwise.
 *
 * @param values insertion-ordered, unmodifiable
 */
public record Parameters(Map<String, Object> values) {
    public static final Parameters EMPTY = new Parameters(Map.of());

    /** Binary extension: size in bytes of a tensor's data in the body's binary tail. */
    public static final String BINARY_DATA_SIZE = "binary_data_size";
    /** Binary extension: on a requested output, return this output in the binary tail. */
    public static final String BINARY_DATA = "binary_data";
    /** Binary extension: on a request, return every output in the binary tail. */
    public static final String BINARY_DATA_OUTPUT = "binary_data_output";

    public Parameters {
        LinkedHashMap<String, Object> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            copy.put(e.getKey(), normalise(e.getKey(), e.getValue()));
        }
        values = java.util.Collections.unmodifiableMap(copy);
    }

    private static Object normalise(String key, Object v) {
        if (key == null) {
            throw new ProtocolException("parameters", "names must not be null");
        }
        return switch (v) {
            case String s -> s;
            case Boolean b -> b;
            case Long l -> l;
            case Integer i -> i.longValue();
            case Short s -> s.longValue();
            case Byte b -> b.longValue();
            case Double d -> d;
            case Float f -> f.doubleValue();
            case null -> throw new ProtocolException("parameters." + key, "must not be null");
            default -> throw new ProtocolException("parameters." + key,
                    "must be a string, number or boolean, got " + v.getClass().getSimpleName());
        };
    }

    /** Name/value pairs: {@code Parameters.of("content_type", "str", "priority", 2)}. */
    public static Parameters of(Object... pairs) {
        if (pairs.length % 2 != 0) {
            throw new IllegalArgumentException("name/value pairs expected");
        }
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], pairs[i + 1]);
        }
        return new Parameters(m);
    }

    public Optional<Object> get(String name) {
        return Optional.ofNullable(values.get(name));
    }

    public Optional<String> string(String name) {
        return get(name).filter(String.class::isInstance).map(String.class::cast);
    }

    public Optional<Boolean> bool(String name) {
        return get(name).filter(Boolean.class::isInstance).map(Boolean.class::cast);
    }

    public Optional<Long> integer(String name) {
        return get(name).filter(Long.class::isInstance).map(Long.class::cast);
    }

    public Optional<Double> number(String name) {
        return get(name).filter(Number.class::isInstance).map(n -> ((Number) n).doubleValue());
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** A copy with {@code name} set. */
    public Parameters with(String name, Object value) {
        LinkedHashMap<String, Object> m = new LinkedHashMap<>(values);
        m.put(name, value);
        return new Parameters(m);
    }

    /** A copy without {@code name}. */
    public Parameters without(String name) {
        if (!values.containsKey(name)) {
            return this;
        }
        LinkedHashMap<String, Object> m = new LinkedHashMap<>(values);
        m.remove(name);
        return new Parameters(m);
    }
}
