package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
)

// retentionSettings are the flags of retention: the interval of the
// scheduled pass, the built-in ages of the data no policy covers, and the
// audit floor.
type retentionSettings struct {
	interval time.Duration
	floor    time.Duration
	ages     map[string]*time.Duration
	defaults retention.Defaults
}

// retentionDefaultFlag is the flag of a data kind's built-in age, as
// retention-default-probe-results; its variable is the same in capitals
// with the AIOD_ prefix.
func retentionDefaultFlag(kind string) string {
	return "retention-default-" + strings.ReplaceAll(kind, "_", "-")
}

// retentionFlags declares the retention flags on fs, each defaulting to
// its AIOD_ variable or to the built-in value: --retention-interval,
// --audit-retention-floor, and --retention-default-<data kind>, where 0
// keeps that data for ever.
func retentionFlags(fs *flag.FlagSet) (*retentionSettings, error) {
	r := &retentionSettings{ages: map[string]*time.Duration{}, defaults: retention.Defaults{}}
	var err error
	if r.interval, err = envDuration("AIOD_RETENTION_INTERVAL", retention.DefaultInterval); err != nil {
		return nil, err
	}
	fs.DurationVar(&r.interval, "retention-interval", r.interval, "how often retention policies and the built-in ages are enforced")
	if r.floor, err = envDuration("AIOD_AUDIT_RETENTION_FLOOR", retention.DefaultAuditFloor); err != nil {
		return nil, err
	}
	fs.DurationVar(&r.floor, "audit-retention-floor", r.floor, "age below which no policy deletes or anonymizes an audit event")
	builtin := retention.BuiltinDefaults()
	for _, dk := range api.DataKinds {
		if dk.Name == api.DataRevisions {
			// The change history's age is --history-retention.
			continue
		}
		name := retentionDefaultFlag(dk.Name)
		d, err := envDuration("AIOD_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_")), builtin[dk.Name])
		if err != nil {
			return nil, err
		}
		r.ages[dk.Name] = &d
		fs.DurationVar(&d, name, d, fmt.Sprintf("age past which the %s no retention policy covers are deleted (0: kept for ever)", dk.Description))
	}
	return r, nil
}

// check refuses settings retention cannot run with, and collects the
// parsed ages.
func (r *retentionSettings) check() error {
	if r.interval < time.Second {
		return errors.New("--retention-interval must be at least 1s")
	}
	if r.floor <= 0 {
		return errors.New("--audit-retention-floor must be more than 0")
	}
	for kind, d := range r.ages {
		if *d < 0 {
			return fmt.Errorf("--%s must be 0 (kept for ever) or more", retentionDefaultFlag(kind))
		}
		r.defaults[kind] = *d
	}
	return nil
}
