package io.edgefleet.protocols.messages;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.Json;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.Manifest;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Encodes and decodes EdgeFleet messages ({@link Message} records and {@link Manifest}) as JSON
 * (MQTT, HTTP) or CBOR (CoAP). Field names are the record component names; instants are
 * ISO-8601 strings; absent optionals are left out.
 *
 * <p>Decoding is strict and total: the result is a complete, validated record or a
 * {@link ProtocolException} with the JSON path of the first problem. Unknown fields are
 * ignored so that a newer minor version can add some; a higher schema version is refused.
 * Thread-safe.
 */
public final class MessageCodec {
    private final java.util.function.Supplier<ObjectMapper> make;
    private final DecodeLimits limits;
    /** Both built on first use: a codec made at start-up (the agent makes several) loads no Jackson databind until a message flows. */
    private volatile ObjectMapper mapper;
    private volatile ObjectMapper canonical;

    private MessageCodec(java.util.function.Supplier<ObjectMapper> make, DecodeLimits limits) {
        this.make = make;
        this.limits = limits;
    }

    private ObjectMapper mapper() {
        ObjectMapper m = mapper;
        if (m == null) {
            synchronized (this) {
                m = mapper;
                if (m == null) {
                    m = make.get();
                    mapper = m;
                }
            }
        }
        return m;
    }

    private ObjectMapper canonical() {
        ObjectMapper m = canonical;
        if (m == null) {
            synchronized (this) {
                m = canonical;
                if (m == null) {
                    m = ((JsonMapper) Json.jsonMapper(limits)).rebuild()
                            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
                            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                            .build();
                    canonical = m;
                }
            }
        }
        return m;
    }

    public static MessageCodec json() {
        return json(DecodeLimits.DEFAULT);
    }

    public static MessageCodec json(DecodeLimits limits) {
        return new MessageCodec(() -> Json.jsonMapper(limits), limits);
    }

    public static MessageCodec cbor() {
        return cbor(DecodeLimits.DEFAULT);
    }

    public static MessageCodec cbor(DecodeLimits limits) {
        return new MessageCodec(() -> Json.cborMapper(limits), limits);
    }

    public byte[] encode(Object message) {
        try {
            return mapper().writeValueAsBytes(message);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Decodes {@code bytes} as {@code type}.
     *
     * @throws ProtocolException for anything that is not a complete, valid message
     */
    public <T> T decode(byte[] bytes, Class<T> type) {
        if (bytes == null || bytes.length == 0) {
            throw new ProtocolException("$", "message is empty");
        }
        limits.checkSize(bytes.length, "message");
        try {
            T value = mapper().readValue(bytes, type);
            if (value == null) {
                throw new ProtocolException("$", "message is null");
            }
            return value;
        } catch (ProtocolException e) {
            throw e.path().startsWith("$") ? e : e.under("$");
        } catch (JacksonException e) {
            throw Json.translate(e);
        } catch (IOException e) {
            throw new ProtocolException("$", "unreadable message", e);
        }
    }

    /**
     * Canonical JSON of a manifest for signing: properties sorted by name, no whitespace,
     * absent optionals left out, no signature. The same manifest gives the same bytes on
     * every machine.
     */
    public byte[] canonicalBytes(Manifest manifest) {
        try {
            return canonical().writeValueAsBytes(manifest.unsigned());
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
