package io.edgefleet.cloud.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Where the control plane keeps its state (node {@code cloud.database}). Without a URL: SQLite in
 * {@code data-dir/cloud.db}, the embedded default. With a {@code jdbc:postgresql://} URL: PostgreSQL
 * through a HikariCP pool of {@code poolSize} connections. The password never sits in the
 * configuration: it is read, when the store opens, from {@code passwordFile} (its content, trailing
 * newline dropped) or else from the environment variable {@code passwordEnv}.
 *
 * @param url JDBC URL ({@code jdbc:postgresql://HOST:PORT/NAME} or {@code jdbc:sqlite:FILE}); empty: SQLite in the data folder
 * @param user database role (PostgreSQL)
 * @param passwordFile file holding the password (e.g. a mounted secret), read at open
 * @param passwordEnv environment variable holding the password, used when there is no {@code passwordFile}
 * @param poolSize most connections the PostgreSQL pool holds, 1..1000 (SQLite always uses one connection)
 * @param connectTimeout how long a unit of work waits for a pooled connection (and the first connection at start) before failing
 * @param lease the leader lease of control-plane replicas on PostgreSQL (node {@code lease}; unused on SQLite)
 */
public record DatabaseSettings(Optional<String> url, Optional<String> user, Optional<Path> passwordFile, Optional<String> passwordEnv,
        int poolSize, Duration connectTimeout, io.edgefleet.cloud.lease.LeaseSettings lease) {

    /** The JDBC database kinds the store speaks. */
    public enum Kind {
        SQLITE, POSTGRESQL
    }

    public DatabaseSettings {
        if (url.isPresent() && !url.get().startsWith("jdbc:postgresql:") && !url.get().startsWith("jdbc:sqlite:")) {
            throw new IllegalArgumentException("database.url must start with jdbc:postgresql: or jdbc:sqlite:, got '" + url.get() + "'");
        }
        if (poolSize < 1 || poolSize > 1000) {
            throw new IllegalArgumentException("database.pool-size must be 1..1000, got " + poolSize);
        }
        if (connectTimeout.toMillis() < 250) {
            throw new IllegalArgumentException("database.connect-timeout-ms must be at least 250, got " + connectTimeout.toMillis());
        }
        java.util.Objects.requireNonNull(lease, "lease");
    }

    /** Settings with the default lease timing. */
    public DatabaseSettings(Optional<String> url, Optional<String> user, Optional<Path> passwordFile, Optional<String> passwordEnv,
            int poolSize, Duration connectTimeout) {
        this(url, user, passwordFile, passwordEnv, poolSize, connectTimeout, io.edgefleet.cloud.lease.LeaseSettings.defaults());
    }

    public DatabaseSettings withLease(io.edgefleet.cloud.lease.LeaseSettings l) {
        return new DatabaseSettings(url, user, passwordFile, passwordEnv, poolSize, connectTimeout, l);
    }

    /** SQLite in the data folder: no configuration at all. */
    public static DatabaseSettings embedded() {
        return new DatabaseSettings(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 10, Duration.ofSeconds(30));
    }

    /** PostgreSQL at {@code url} as {@code user}, the password read from the environment variable {@code passwordEnv}. */
    public static DatabaseSettings postgresql(String url, String user, Optional<String> passwordEnv) {
        return new DatabaseSettings(Optional.of(url), Optional.of(user), Optional.empty(), passwordEnv, 10, Duration.ofSeconds(30));
    }

    public DatabaseSettings withPoolSize(int size) {
        return new DatabaseSettings(url, user, passwordFile, passwordEnv, size, connectTimeout);
    }

    public DatabaseSettings withPasswordFile(Path file) {
        return new DatabaseSettings(url, user, Optional.of(file), passwordEnv, poolSize, connectTimeout);
    }

    public Kind kind() {
        return url.filter(u -> u.startsWith("jdbc:postgresql:")).isPresent() ? Kind.POSTGRESQL : Kind.SQLITE;
    }

    /**
     * The password, read now.
     *
     * @throws IllegalArgumentException the file cannot be read, or the variable named is not set
     */
    Optional<String> password() {
        if (passwordFile.isPresent()) {
            try {
                return Optional.of(Files.readString(passwordFile.get(), StandardCharsets.UTF_8).stripTrailing());
            } catch (IOException e) {
                String why = e instanceof java.nio.file.NoSuchFileException ? "no such file"
                        : e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                        : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage());
                throw new IllegalArgumentException("database.password-file " + passwordFile.get() + " cannot be read: " + why, e);
            }
        }
        if (passwordEnv.isPresent()) {
            String v = System.getenv(passwordEnv.get());
            if (v == null) {
                throw new IllegalArgumentException("database.password-env names " + passwordEnv.get() + ", which is not set");
            }
            return Optional.of(v);
        }
        return Optional.empty();
    }

    /** The URL without credentials a user may have put in its query (for messages and logs). */
    String safeUrl() {
        return url.map(u -> u.replaceAll("(?i)(password=)[^&]*", "$1***")).orElse("(embedded SQLite)");
    }
}
