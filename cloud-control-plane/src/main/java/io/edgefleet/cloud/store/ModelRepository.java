package io.edgefleet.cloud.store;

import com.fasterxml.jackson.core.type.TypeReference;
import io.edgefleet.cloud.registry.Metadata;
import io.edgefleet.cloud.registry.ModelVersion;
import io.edgefleet.cloud.registry.VariantInfo;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Models and their versions, with the signed manifest of each version. */
public final class ModelRepository {
    private final CloudStore store;

    public ModelRepository(CloudStore store) {
        this.store = store;
    }

    /** A model and its versions, newest first. */
    public record ModelSummary(String name, Optional<String> task, Optional<String> owner, Instant createdAt, List<String> versions) {
    }

    /**
     * Records a new version (and its model on first use) in one transaction.
     *
     * @return false when the version already exists (versions are immutable; nothing was written)
     */
    public boolean insert(ModelVersion v, byte[] manifest) {
        return store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM model_versions WHERE model = ? AND version = ?")) {
                if (Jdbc.bind(p, v.model(), v.version()).executeQuery().next()) {
                    return false;
                }
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO models (name, task, owner, labels, created_at) VALUES (?, ?, ?, ?, ?) "
                    + "ON CONFLICT(name) DO UPDATE SET task = COALESCE(excluded.task, models.task), owner = COALESCE(excluded.owner, models.owner)")) {
                Jdbc.bind(p, v.model(), v.metadata().task(), v.metadata().owner(), Jdbc.json(v.metadata().labels()), v.createdAt()).executeUpdate();
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO model_versions (model, version, status, target_profiles, metadata, "
                    + "variants, manifest, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                Jdbc.bind(p, v.model(), v.version(), v.status(), Jdbc.json(v.targetProfiles()), Jdbc.json(v.metadata()),
                        Jdbc.json(v.variants()), manifest, v.createdAt(), v.createdBy()).executeUpdate();
            }
            return true;
        });
    }

    public Optional<ModelVersion> version(String model, String version) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM model_versions WHERE model = ? AND version = ?")) {
                ResultSet r = Jdbc.bind(p, model, version).executeQuery();
                return r.next() ? Optional.of(row(r)) : Optional.empty();
            }
        });
    }

    /** The versions of a model, newest registration first. */
    /** The version of {@code model} registered last, if any (deprecated ones included). */
    public Optional<ModelVersion> latest(String model) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM model_versions WHERE model = ? ORDER BY created_at DESC, version DESC LIMIT 1")) {
                ResultSet r = Jdbc.bind(p, model).executeQuery();
                return r.next() ? Optional.of(row(r)) : Optional.<ModelVersion>empty();
            }
        });
    }

    public List<ModelVersion> versions(String model) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM model_versions WHERE model = ? ORDER BY created_at DESC, version DESC")) {
                ResultSet r = Jdbc.bind(p, model).executeQuery();
                List<ModelVersion> out = new ArrayList<>();
                while (r.next()) {
                    out.add(row(r));
                }
                return out;
            }
        });
    }

    public List<ModelSummary> models() {
        return store.read(c -> {
            List<ModelSummary> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT m.name, m.task, m.owner, m.created_at, v.version FROM models m "
                    + "LEFT JOIN model_versions v ON v.model = m.name ORDER BY m.name, v.created_at DESC, v.version DESC")) {
                ResultSet r = p.executeQuery();
                String current = null;
                List<String> versions = null;
                while (r.next()) {
                    String name = r.getString(1);
                    if (!name.equals(current)) {
                        current = name;
                        versions = new ArrayList<>();
                        out.add(new ModelSummary(name, Optional.ofNullable(r.getString(2)), Optional.ofNullable(r.getString(3)),
                                Instant.ofEpochMilli(r.getLong(4)), versions));
                    }
                    if (r.getString(5) != null) {
                        versions.add(r.getString(5));
                    }
                }
            }
            return out;
        });
    }

    public Optional<byte[]> manifest(String model, String version) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT manifest FROM model_versions WHERE model = ? AND version = ?")) {
                ResultSet r = Jdbc.bind(p, model, version).executeQuery();
                return r.next() ? Optional.of(r.getBytes(1)) : Optional.empty();
            }
        });
    }

    /** Marks a version deprecated; returns false when it does not exist. Deprecating twice keeps the first record. */
    public boolean deprecate(String model, String version, Instant at, String by, String reason) {
        return store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE model_versions SET status = ?, deprecated_at = COALESCE(deprecated_at, ?), "
                    + "deprecated_by = COALESCE(deprecated_by, ?), deprecated_reason = COALESCE(deprecated_reason, ?) WHERE model = ? AND version = ?")) {
                return Jdbc.bind(p, ModelVersion.DEPRECATED, at, by, reason, model, version).executeUpdate() == 1;
            }
        });
    }

    private static ModelVersion row(ResultSet r) throws SQLException {
        Optional<ModelVersion.Deprecation> dep = Jdbc.instant(r, "deprecated_at")
                .map(at -> new ModelVersion.Deprecation(at, nullToEmpty(r, "deprecated_by"), nullToEmpty(r, "deprecated_reason")));
        return new ModelVersion(r.getString("model"), r.getString("version"), r.getString("status"),
                Jdbc.fromJson(r.getString("target_profiles"), new TypeReference<List<String>>() { }),
                Jdbc.fromJson(r.getString("metadata"), new TypeReference<Metadata>() { }),
                Jdbc.fromJson(r.getString("variants"), new TypeReference<List<VariantInfo>>() { }),
                Instant.ofEpochMilli(r.getLong("created_at")), Optional.ofNullable(r.getString("created_by")), dep);
    }

    private static String nullToEmpty(ResultSet r, String column) {
        try {
            String s = r.getString(column);
            return s == null ? "" : s;
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

}
