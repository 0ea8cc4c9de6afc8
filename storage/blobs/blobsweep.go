package blobs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"tenken/checklist"
)

// Sweep removes the blobs last stored before cutoff that no inspection
// references (referenced says, per digest), and the temporary files of
// uploads interrupted before cutoff. An upload refused after its bytes
// were stored, or an inspection write that failed after one, leaves such
// a blob; Put touches a blob it finds already stored, so a re-upload is
// never swept between its Put and the write that references it. It
// returns how many files it removed; a blob whose references cannot be
// read is kept.
func (b *Disk) Sweep(ctx context.Context, cutoff time.Time, referenced func(ctx context.Context, sha string) (bool, error)) (removed int, err error) {
	var errs []error
	walkErr := filepath.WalkDir(b.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			return nil
		}
		if filepath.Base(filepath.Dir(path)) != "tmp" {
			sha := d.Name()
			if !checklist.IsSHA256(sha) {
				return nil
			}
			used, err := referenced(ctx, sha)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", sha, err))
				return nil
			}
			if used {
				return nil
			}
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			return nil
		}
		removed++
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("blob sweep: %w", err)
	}
	return removed, nil
}
