package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"tenken/auth"
	"tenken/checklist"
	"tenken/storage"
)

// demoDataActor is who the audit trail names for demo data.
var demoDataActor = checklist.Actor{UserID: "system", Name: "demo data"}

// demoFacilities are examples of the bureau's citizen-use facilities.
var demoFacilities = []checklist.Facility{
	{Code: "VT-JONAN", Kind: checklist.KindVocationalTraining, Department: "産業労働局 雇用就業部", Address: "東京都品川区",
		Name: checklist.FacilityName{JA: "城南職業能力開発センター", EN: "Jonan Vocational Skills Development Center"}},
	{Code: "VT-TAMA", Kind: checklist.KindVocationalTraining, Department: "産業労働局 雇用就業部", Address: "東京都昭島市",
		Name: checklist.FacilityName{JA: "多摩職業能力開発センター", EN: "Tama Vocational Skills Development Center"}},
	{Code: "LC-IIDABASHI", Kind: checklist.KindLabourConsultation, Department: "産業労働局 雇用就業部", Address: "東京都千代田区",
		Name: checklist.FacilityName{JA: "労働相談情報センター", EN: "Labour Consultation and Information Center"}},
	{Code: "BS-AKIHABARA", Kind: checklist.KindBusinessSupport, Department: "産業労働局 商工部", Address: "東京都千代田区",
		Name: checklist.FacilityName{JA: "中小企業振興公社 秋葉原庁舎", EN: "Small and Medium Enterprise Support Center, Akihabara"}},
	{Code: "RS-AOMI", Kind: checklist.KindResearch, Department: "産業労働局 商工部", Address: "東京都江東区",
		Name: checklist.FacilityName{JA: "産業技術研究センター 本部", EN: "Industrial Technology Research Institute, Headquarters"}},
	{Code: "PH-HAMAMATSUCHO", Kind: checklist.KindPublicHall, Department: "産業労働局 商工部", Address: "東京都港区",
		Name: checklist.FacilityName{JA: "産業貿易センター 浜松町館", EN: "Industry and Trade Center, Hamamatsucho"}},
}

// demoUsers are the demo accounts; inspectors name their facilities by code.
var demoUsers = []struct {
	checklist.User
	facilityCodes []string
}{
	{User: checklist.User{Username: "admin", DisplayName: "管理者", Role: checklist.RoleAdmin}},
	{User: checklist.User{Username: "reviewer", DisplayName: "産業労働局 審査担当", Role: checklist.RoleReviewer}},
	{User: checklist.User{Username: "inspector1", DisplayName: "職業能力開発センター 点検担当", Role: checklist.RoleInspector},
		facilityCodes: []string{"VT-JONAN", "VT-TAMA"}},
	{User: checklist.User{Username: "inspector2", DisplayName: "労働相談・中小企業支援 点検担当", Role: checklist.RoleInspector},
		facilityCodes: []string{"LC-IIDABASHI", "BS-AKIHABARA"}},
}

// seedDemo fills an empty database with demo data: the facilities above
// and the users admin, reviewer, inspector1 and inspector2, whose password
// is TENKEN_DEMO_PASSWORD when set, otherwise generated and printed once.
// It does nothing when any user exists, so restarts with --demo are safe;
// facilities that already exist (by code) are reused.
func seedDemo(ctx context.Context, e env, db *storage.DB, log *slog.Logger) error {
	has, err := db.HasUsers(ctx)
	if err != nil || has {
		return err
	}
	password, generated := e.getenv("TENKEN_DEMO_PASSWORD"), false
	if password == "" {
		password, generated = generatePassword(), true
	}
	var p checklist.Problems
	checklist.ValidatePassword(&p, "TENKEN_DEMO_PASSWORD", password, "")
	if err := p.Err("the demo password is not valid"); err != nil {
		return describe(err)
	}
	byCode := map[string]string{}
	for _, f := range demoFacilities {
		f.Active = true
		created, err := db.CreateFacility(ctx, f, demoDataActor)
		if errors.Is(err, checklist.EConflict) {
			created, err = db.FindFacilityByCode(ctx, f.Code)
		}
		if err != nil {
			return fmt.Errorf("facility %s: %w", f.Code, err)
		}
		byCode[f.Code] = created.ID
	}
	// The demo users share one password by design (it is printed), so it
	// is hashed once: one argon2id pass instead of four keeps the first
	// start with --demo fast and its memory low.
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	for _, du := range demoUsers {
		u := du.User
		for _, code := range du.facilityCodes {
			u.FacilityIDs = append(u.FacilityIDs, byCode[code])
		}
		if err := checklist.ValidateNewUser(u, password); err != nil {
			return fmt.Errorf("user %s: %w", u.Username, describe(err))
		}
		if _, err := db.CreateUser(ctx, u, hash, demoDataActor); err != nil {
			return fmt.Errorf("user %s: %w", u.Username, describe(err))
		}
	}
	log.Info("demo data created", slog.Int("facilities", len(demoFacilities)), slog.Int("users", len(demoUsers)))
	fmt.Fprintln(e.stdout, "demo users: admin, reviewer, inspector1, inspector2")
	if generated {
		fmt.Fprintf(e.stdout, "demo password: %s   (shown only this once; set TENKEN_DEMO_PASSWORD to choose it)\n", password)
	}
	return nil
}
