package io.edgefleet.cloud.drift;

import com.fasterxml.jackson.core.type.TypeReference;
import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Jdbc;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Reference profiles and judged windows ({@code drift_references}, {@code drift_windows}; migration V11), on SQLite or
 * PostgreSQL. Thread-safe (every call is its own transaction).
 */
public final class DriftRepository {
    private final CloudStore store;

    public DriftRepository(CloudStore store) {
        this.store = store;
    }

    /** A stored reference and when it was recorded. */
    public record StoredReference(String model, String version, ReferenceProfile profile, Instant createdAt) {
    }

    /**
     * One judged window of a model version.
     *
     * @param samples values per feature in the window (its smallest feature's count)
     * @param maxPsi the worst feature's PSI (the drift score)
     * @param meanPsi the mean over features
     * @param worstFeature {@code tensor[i]} of the worst feature
     * @param confidencePsi the confidence distribution's PSI, when both the reference and the window have one
     * @param alarm whether the version was in alarm after this window
     */
    public record WindowScore(String model, String version, Instant windowStart, long samples, double maxPsi, double meanPsi,
            String worstFeature, OptionalDouble confidencePsi, boolean alarm) {
    }

    /** Stores (replacing) the reference of a model version. */
    public void saveReference(String model, String version, ReferenceProfile p, Instant at) {
        store.tx(c -> {
            try (PreparedStatement d = c.prepareStatement("DELETE FROM drift_references WHERE model = ? AND version = ?")) {
                Jdbc.bind(d, model, version).executeUpdate();
            }
            try (PreparedStatement i = c.prepareStatement(
                    "INSERT INTO drift_references (model, version, source, samples, profile, created_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                Jdbc.bind(i, model, version, p.source(), p.samples(), Jdbc.json(p), at).executeUpdate();
            }
            return null;
        });
    }

    public Optional<StoredReference> reference(String model, String version) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT profile, created_at FROM drift_references WHERE model = ? AND version = ?")) {
                ResultSet r = Jdbc.bind(p, model, version).executeQuery();
                if (!r.next()) {
                    return Optional.empty();
                }
                return Optional.of(new StoredReference(model, version, Jdbc.fromJson(r.getString(1), new TypeReference<ReferenceProfile>() { }),
                        Instant.ofEpochMilli(r.getLong(2))));
            }
        });
    }

    /** Removes the reference and the judged windows of a model version; true when there was a reference. */
    public boolean deleteReference(String model, String version) {
        return store.tx(c -> {
            try (PreparedStatement w = c.prepareStatement("DELETE FROM drift_windows WHERE model = ? AND version = ?")) {
                Jdbc.bind(w, model, version).executeUpdate();
            }
            try (PreparedStatement d = c.prepareStatement("DELETE FROM drift_references WHERE model = ? AND version = ?")) {
                return Jdbc.bind(d, model, version).executeUpdate() > 0;
            }
        });
    }

    /** Records a judged window; a window judged again (a second replica) keeps the first row. */
    public void saveWindow(WindowScore w) {
        store.tx(c -> {
            try (PreparedStatement i = c.prepareStatement("INSERT INTO drift_windows (model, version, window_start, samples, max_psi, mean_psi, "
                    + "worst_feature, confidence_psi, alarm) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model, version, window_start) DO NOTHING")) {
                Jdbc.bind(i, w.model(), w.version(), w.windowStart(), w.samples(), w.maxPsi(), w.meanPsi(), w.worstFeature(),
                        w.confidencePsi().isPresent() ? w.confidencePsi().getAsDouble() : null, w.alarm() ? 1 : 0).executeUpdate();
            }
            return null;
        });
    }

    /**
     * The last {@code n} judged windows of a model version, newest first: the query a rollout gate on drift asks
     * ("drift score of model M version V over the last N windows").
     */
    public List<WindowScore> recent(String model, String version, int n) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT window_start, samples, max_psi, mean_psi, worst_feature, confidence_psi, alarm "
                    + "FROM drift_windows WHERE model = ? AND version = ? ORDER BY window_start DESC LIMIT ?")) {
                ResultSet r = Jdbc.bind(p, model, version, n).executeQuery();
                List<WindowScore> out = new ArrayList<>();
                while (r.next()) {
                    double conf = r.getDouble(6);
                    OptionalDouble cp = r.wasNull() ? OptionalDouble.empty() : OptionalDouble.of(conf);
                    out.add(new WindowScore(model, version, Instant.ofEpochMilli(r.getLong(1)), r.getLong(2), r.getDouble(3), r.getDouble(4),
                            r.getString(5), cp, r.getInt(7) == 1));
                }
                return out;
            }
        });
    }

    /** Every model version with a reference, as {@code [model, version]}. */
    public List<List<String>> referenced() {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT model, version FROM drift_references ORDER BY model, version")) {
                ResultSet r = p.executeQuery();
                List<List<String>> out = new ArrayList<>();
                while (r.next()) {
                    out.add(List.of(r.getString(1), r.getString(2)));
                }
                return out;
            }
        });
    }
}
