package io.edgefleet.cloud;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs a whole-control-plane test class on a real PostgreSQL server instead of SQLite: its {@link DatabaseParameter}
 * resolves to a fresh database on the testkit's shared {@code PostgresServer}. Put it on an empty subclass of a test
 * whose {@code @BeforeAll} takes a {@code DatabaseSettings} parameter.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Inherited
@interface OnPostgres {
}
