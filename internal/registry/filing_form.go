package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"

	"vigil/internal/policy"
	"vigil/internal/problem"
)

// Filing returns one filing, if subj may read its unit.
func (s *Service) Filing(ctx context.Context, subj *policy.Subject, id string) (*Filing, error) {
	fs, err := s.listFilings(ctx, "f.id = ?", []any{id})
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, problem.NotFound("registry.filing_not_found", problem.P{"id": id})
	}
	u, err := s.unit(ctx, s.db, fs[0].UnitID)
	if err != nil {
		return nil, err
	}
	if !canRead(subj, u.Path) {
		return nil, problem.NotFound("registry.filing_not_found", problem.P{"id": id})
	}
	return fs[0], nil
}

var filingKindZH = map[string]string{FilingInitial: "首次备案", FilingChange: "变更备案", FilingCancellation: "注销备案"}
var filingStateZH = map[string]string{FilingSubmitted: "已提交", FilingAccepted: "已受理", FilingReturned: "已退回"}

// WriteFilingXLSX writes a filing as a printable Excel form (备案登记表),
// labels in Chinese and English.
func WriteFilingXLSX(w io.Writer, f *Filing) error {
	x := excelize.NewFile()
	defer x.Close()
	const sh = "备案登记表"
	x.SetSheetName("Sheet1", sh)
	types := make([]string, 0, len(f.Content.CameraTypes))
	for t, n := range f.Content.CameraTypes {
		types = append(types, fmt.Sprintf("%s × %d", t, n))
	}
	sort.Strings(types)
	att, _ := json.Marshal(f.Content.Attachments)
	rows := [][2]string{
		{"公共安全视频图像信息系统备案登记表 / Filing form", ""},
		{"备案编号 Filing no.", f.ID},
		{"备案类型 Kind", filingKindZH[f.Kind] + " " + f.Kind},
		{"状态 State", filingStateZH[f.State] + " " + f.State},
		{"管理单位 Managing unit", f.Content.UnitName},
		{"系统名称 System", f.Content.SystemName},
		{"建设地点 Locations", strings.Join(f.Content.Locations, "；")},
		{"摄像机数量 Cameras", fmt.Sprint(f.Content.CameraCount)},
		{"摄像机类型 Types", strings.Join(types, "，")},
		{"存储期限（天） Retention (days)", fmt.Sprint(f.Content.RetentionDays)},
		{"投入使用日期 In use since", f.Content.InUseOn},
		{"验收日期 Accepted on", f.Content.AcceptedOn},
		{"附件 Attachments", string(att)},
		{"提交时间 Submitted", f.SubmittedAt.Format("2006-01-02 15:04")},
		{"审核意见 Review", f.Reason},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow(sh, cell, &[]any{r[0], r[1]}); err != nil {
			return err
		}
	}
	x.SetColWidth(sh, "A", "A", 34)
	x.SetColWidth(sh, "B", "B", 60)
	x.MergeCell(sh, "A1", "B1")
	x.SetPageLayout(sh, &excelize.PageLayoutOptions{Size: intPtr(9)}) // A4
	if _, err := x.WriteTo(w); err != nil {
		return fmt.Errorf("write filing form: %w", err)
	}
	return nil
}

func intPtr(v int) *int { return &v }
