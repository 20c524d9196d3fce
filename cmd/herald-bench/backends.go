package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// backend is the storage one run of Herald uses: its HERALD_* settings and
// how to remove what the run created.
type backend struct {
	name     string
	settings map[string]string
	cleanup  func() error
}

const (
	backendSQLite   = "sqlite"
	backendPostgres = "postgres"

	defaultPostgresAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	defaultRedisURL         = "redis://127.0.0.1:6379/0"
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sqliteBackend is the embedded store: a fresh file in dir.
func sqliteBackend(dir string) *backend {
	return &backend{
		name:     backendSQLite,
		settings: map[string]string{"HERALD_DATABASE_URL": "sqlite:" + filepath.Join(dir, "h.db")},
		cleanup:  func() error { return nil }, // dir is removed with the run
	}
}

// postgresBackend creates the database herald_bench_<random> through the
// admin URL and a Redis key prefix herald-bench-<random>; cleanup drops the
// database and deletes the prefix's keys.
func postgresBackend(ctx context.Context, adminURL, redisURL string) (*backend, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL at %s: %w", redactURL(adminURL), err)
	}
	defer admin.Close(context.Background())
	name := "herald_bench_" + randomHex(6)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	dropDB := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return err
		}
		defer c.Close(context.Background())
		_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	}
	dbURL, err := withDatabase(adminURL, name)
	if err != nil {
		return nil, errors.Join(err, dropDB())
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("redis URL: %w", err), dropDB())
	}
	rc := redis.NewClient(opts)
	if err := rc.Ping(ctx).Err(); err != nil {
		_ = rc.Close()
		return nil, errors.Join(fmt.Errorf("redis at %s: %w", redactURL(redisURL), err), dropDB())
	}
	_ = rc.Close()
	prefix := "herald-bench-" + randomHex(6)
	return &backend{
		name: backendPostgres,
		settings: map[string]string{
			"HERALD_DATABASE_URL": dbURL,
			"HERALD_REDIS_URL":    redisURL,
			"HERALD_REDIS_PREFIX": prefix,
		},
		cleanup: func() error { return errors.Join(dropDB(), deleteRedisPrefix(redisURL, prefix)) },
	}, nil
}

// deleteRedisPrefix removes every key under prefix.
func deleteRedisPrefix(redisURL, prefix string) error {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			if err := c.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
			keys = keys[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(keys) > 0 {
		return c.Unlink(ctx, keys...).Err()
	}
	return nil
}

// withDatabase points a postgres:// URL at another database.
func withDatabase(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("the PostgreSQL admin URL must be postgres://USER@HOST:PORT/DB")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// redactURL hides a password in a URL for messages.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}
