package io.edgefleet.protocols;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place where Jackson is configured for the wire: strict types (no string-to-number
 * coercion, no floats where integers belong), duplicate keys refused, trailing tokens refused,
 * nesting and string sizes bounded, and every Jackson failure translated into a
 * {@link ProtocolException} with a JSON path.
 */
public final class Json {
    private static final Pattern MISSING = Pattern.compile("Missing required creator property '([^']+)'");

    private Json() {
    }

    /** A strict JSON mapper bounded by {@code limits}. */
    public static ObjectMapper jsonMapper(DecodeLimits limits) {
        JsonFactory f = JsonFactory.builder()
                .streamReadConstraints(constraints(limits))
                .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                // FastDoubleParser (bundled in jackson-core): correctly rounded like Double.parseDouble,
                // several times faster; tensor data in v2 JSON is mostly floats
                .enable(com.fasterxml.jackson.core.StreamReadFeature.USE_FAST_DOUBLE_PARSER)
                .build();
        return configure(JsonMapper.builder(f)).build();
    }

    /** A strict CBOR mapper bounded by {@code limits} (CoAP bodies). */
    public static ObjectMapper cborMapper(DecodeLimits limits) {
        CBORFactory f = CBORFactory.builder()
                .streamReadConstraints(constraints(limits))
                .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
        return configure(CBORMapper.builder(f)).build();
    }

    /** Read bounds derived from {@code limits}, for any Jackson factory. */
    public static StreamReadConstraints constraints(DecodeLimits limits) {
        return StreamReadConstraints.builder()
                .maxNestingDepth(limits.maxNestingDepth())
                .maxStringLength(limits.maxMessageBytes())
                .maxNumberLength(400)
                .maxNameLength(1024)
                .build();
    }

    /**
     * Applies the strict wire settings to any Jackson mapper builder (JSON, CBOR, YAML...), so
     * every format EdgeFleet reads follows the same rules.
     */
    public static <M extends ObjectMapper, B extends com.fasterxml.jackson.databind.cfg.MapperBuilder<M, B>> B configure(B b) {
        b.addModule(new JavaTimeModule())
                .addModule(new Jdk8Module())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
                // Forward compatibility: a newer minor version may add fields; we ignore them.
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .serializationInclusion(JsonInclude.Include.NON_ABSENT)
                .withCoercionConfigDefaults(c -> c
                        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail));
        return b;
    }

    /**
     * Translates any Jackson failure into a {@link ProtocolException}: the JSON path of the
     * failing value, plus the rule. A {@link ProtocolException} thrown by a record's compact
     * constructor keeps its reason and gets the enclosing path prepended.
     */
    public static ProtocolException translate(JacksonException e) {
        if (e instanceof ValueInstantiationException vie && vie.getCause() instanceof ProtocolException pe) {
            return pe.under(path(vie));
        }
        if (e instanceof JsonMappingException jme) {
            String path = path(jme);
            String msg = String.valueOf(jme.getOriginalMessage());
            Matcher m = MISSING.matcher(msg);
            if (m.find()) {
                return new ProtocolException(path.equals("$") ? "$." + m.group(1) : path + "." + m.group(1), "is required", e);
            }
            if (msg.startsWith("Cannot map `null` into type")) {
                return new ProtocolException(path, "is required", e);
            }
            return new ProtocolException(path, reason(msg), e);
        }
        JsonLocation loc = e.getLocation();
        String where = loc == null ? "" : " at line " + loc.getLineNr() + " column " + loc.getColumnNr();
        return new ProtocolException("$", "malformed input" + where + ": " + reason(e.getOriginalMessage()), e);
    }

    /** {@code $.models[2].version} from a Jackson reference chain. */
    static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder("$");
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                sb.append('.').append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    /** The first line of a Jackson message, without class names and bounded in length. */
    private static String reason(String original) {
        if (original == null) {
            return "unreadable value";
        }
        String first = original.lines().findFirst().orElse(original)
                .replaceAll("\\(?enable `?JsonReadFeature\\.ALLOW_NON_NUMERIC_NUMBERS`? to allow\\)?",
                        "(send \"NaN\", \"Infinity\" or \"-Infinity\" as strings)")
                .replaceAll("`?\\b(?:[a-z][a-z0-9_]*\\.)+([A-Z][A-Za-z0-9_$]*)`?", "$1")
                .replace("\"<EOF>\"", "end of input");
        return first.length() > 200 ? first.substring(0, 200) + "..." : first;
    }

}
