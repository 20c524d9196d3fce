package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TracingFromEnv reads the standard OpenTelemetry variables and returns a
// tracer provider exporting over OTLP/HTTP (protobuf), or nil when tracing
// is off. It is on when OTEL_TRACES_EXPORTER is "otlp", or when it is
// unset and OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is; OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none turn it off. The exporter, sampler
// (OTEL_TRACES_SAMPLER, default parentbased_always_on), batching
// (OTEL_BSP_*) and resource (OTEL_SERVICE_NAME, default "herald";
// OTEL_RESOURCE_ATTRIBUTES) read their own variables. It also installs the
// W3C trace-context propagator. Call shutdown before exiting: it flushes
// the spans still batched.
func TracingFromEnv(ctx context.Context, version string) (tp trace.TracerProvider, shutdown func(context.Context) error, err error) {
	nothing := func(context.Context) error { return nil }
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return nil, nothing, nil
	}
	switch exp := strings.TrimSpace(strings.ToLower(os.Getenv("OTEL_TRACES_EXPORTER"))); exp {
	case "none":
		return nil, nothing, nil
	case "":
		if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
			return nil, nothing, nil
		}
	case "otlp":
	default:
		return nil, nothing, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported (otlp or none)", exp)
	}
	proto := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if proto != "" && proto != "http/protobuf" {
		return nil, nothing, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: %q is not supported (http/protobuf)", proto)
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nothing, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "herald"), attribute.String("service.version", version)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, nothing, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	otel.SetTracerProvider(sdk)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return sdk, sdk.Shutdown, nil
}

// Handler wraps h with a server span per request (otelhttp): W3C trace
// context is taken from the request's traceparent header, and the span is
// renamed after the route pattern once the router knows it (RequestDone).
// otelhttp records the path but never the query string, cookies or
// headers other than the user agent. Without tracing h is returned as is.
func (t *Telemetry) Handler(h http.Handler) http.Handler {
	if !t.Tracing() {
		return h
	}
	return otelhttp.NewHandler(h, "request",
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()), // metrics are Prometheus'
	)
}
