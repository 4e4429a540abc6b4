package io.edgefleet.cloud.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.protocols.Json;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.Optional;

/** Small JDBC helpers shared by the repositories. */
public final class Jdbc {
    public static final ObjectMapper JSON = Json.jsonMapper(io.edgefleet.protocols.DecodeLimits.DEFAULT);

    private Jdbc() {
    }

    public static void set(PreparedStatement p, int i, Object v) throws SQLException {
        switch (v) {
            case null -> p.setNull(i, Types.NULL);
            case Instant t -> p.setLong(i, t.toEpochMilli());
            case Optional<?> o -> set(p, i, o.orElse(null));
            case Boolean b -> p.setInt(i, b ? 1 : 0);
            default -> p.setObject(i, v);
        }
    }

    public static PreparedStatement bind(PreparedStatement p, Object... values) throws SQLException {
        for (int i = 0; i < values.length; i++) {
            set(p, i + 1, values[i]);
        }
        return p;
    }

    public static Optional<Instant> instant(ResultSet r, String column) throws SQLException {
        long v = r.getLong(column);
        return r.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
    }

    public static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write JSON: " + e.getMessage(), e);
        }
    }

    public static <T> T fromJson(String s, TypeReference<T> type) {
        try {
            return JSON.readValue(s, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("corrupt JSON column: " + e.getOriginalMessage(), e);
        }
    }
}
