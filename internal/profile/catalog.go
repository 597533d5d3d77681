package profile

// Label is a stable code with the names a person reads: Chinese (zh-CN) and English.
type Label struct {
	Code string `yaml:"code" json:"code"`
	ZH   string `yaml:"zh" json:"zh"`
	EN   string `yaml:"en" json:"en"`
}

// placeTypes are the privacy places (涉及个人隐私的场所) a profile may prohibit (REG-6).
// Codes are stable: registries store them.
var placeTypes = []Label{
	{"hotel_guest_room", "旅馆客房", "hotel guest room"},
	{"dormitory", "集体宿舍（劳动者、学生等宿舍）", "dormitory (workers', students')"},
	{"apartment_room", "公寓房间", "apartment room"},
	{"public_bath", "公共浴室", "public bath"},
	{"changing_room", "更衣室", "changing room"},
	{"toilet", "卫生间", "toilet"},
	{"nursing_room", "哺乳室", "nursing room"},
	{"fitting_room", "试衣间", "fitting room"},
	{"makeup_room", "化妆间", "make-up room"},
	{"financial_customer_info_area", "金融、保险、证券机构内可能泄露客户个人信息的区域", "area of a bank, insurer or broker exposing customers' personal information"},
	{"ballot_box", "选举箱附近", "near a ballot box"},
	{"report_box", "举报箱附近", "near a report box"},
	{"voting_point", "投票点附近", "near a voting point"},
}

// siteCategories are the kinds of place that must be covered (应当建设) by a
// public-security video system (REG-5). A profile lists the ones its seed mandates.
var siteCategories = []Label{
	{"main_roads", "主要道路、重要路段和路口", "main roads, key road sections and junctions"},
	{"admin_boundary_roads", "行政区域道路边界", "roads at administrative boundaries"},
	{"bridges_tunnels_underpasses", "桥梁、隧道、地下通道", "bridges, tunnels, underpasses"},
	{"squares", "广场", "public squares"},
	{"security_key_unit_surroundings", "治安保卫重点单位周边区域", "surroundings of security key units"},
	{"key_target_key_parts", "防范恐怖袭击重点目标和治安保卫重点单位的重要部位", "key parts of anti-terror key targets and security key units"},
	{"transport_hubs", "交通枢纽（机场、港口、车站、码头、口岸）", "transport hubs (airports, ports, stations, piers, border crossings)"},
	{"public_transport_vehicles", "公共交通工具", "public transport vehicles and vessels"},
	{"highway_service_areas", "高速公路、普通国省干线服务区", "highway service areas"},
	{"energy_utilities", "能源动力设施和水、电、燃气、热力供应设施", "energy facilities and water, power, gas, heat supply"},
	{"water_works", "水利设施（堤防、水库等）", "water works (dykes, reservoirs, flood control)"},
	{"fuel_stations_depots", "加油站、成品油仓库", "fuel stations and oil-product depots"},
	{"material_reserves", "大型物资储备单位", "large material reserve units"},
	{"hazardous_materials", "危险物品、传染性菌种毒种单位", "hazardous materials and infectious-agent units"},
	{"news_media", "广播电台、电视台、通讯社等重要新闻单位", "broadcasters and key news units"},
	{"telecom_postal", "电信、邮政（寄递物流）单位", "telecom and postal (parcel) units"},
	{"finance", "金融单位、金融营业和信息场所", "financial institutions, premises and data centres"},
	{"currency_securities", "货币、有价证券、票据的制造或存放场所", "currency, securities and bills: production and storage"},
	{"precious_metals_jewelry", "贵金属、珠宝经营场所", "precious metals and jewellery shops"},
	{"second_hand_pawn", "旧货交易市场、典当行", "second-hand markets and pawnshops"},
	{"state_organs", "国家机关", "state organs"},
	{"key_construction_projects", "国家重点建设工程单位", "national key construction projects"},
	{"defense_industry", "国防科技工业重要产品研制生产单位", "defence industry units"},
	{"research_institutions", "科研机构", "research institutions"},
	{"schools", "学校、幼儿园、教育机构", "schools, kindergartens, educational institutions"},
	{"hospitals", "医院、医疗机构", "hospitals and medical institutions"},
	{"museums_cultural_relics", "博物馆、纪念馆、重点文物保护单位", "museums and protected cultural relics"},
	{"archives", "档案馆、重要档案资料库", "archives"},
	{"commercial_centers", "商贸中心", "shopping and trade centres"},
	{"commercial_streets", "商业街", "commercial streets"},
	{"exhibition_centers", "会展中心", "exhibition centres"},
	{"logistics_centers", "物流中心", "logistics centres"},
	{"farmers_markets", "农贸市场", "farmers' markets"},
	{"culture_sports_entertainment", "文化、体育、娱乐场所", "cultural, sports and entertainment venues"},
	{"tourist_sites", "旅游景区", "tourist sites"},
	{"parks", "公园", "parks"},
	{"forests_wetlands", "森林、湿地", "forests and wetlands"},
	{"government_service_halls", "政务服务大厅", "government service halls"},
	{"public_parking", "公共停车场", "public car parks"},
	{"hotels_catering", "住宿和餐饮服务单位（旅馆、宾馆、民宿、餐饮）", "hotels, guesthouses and restaurants"},
	{"internet_cafes", "互联网上网服务场所", "internet cafés"},
	{"residential_areas", "住宅小区出入口和公共区域", "residential compounds: entrances and common areas"},
	{"emergency_shelters_underground", "应急疏散场所、大型地下空间", "emergency shelters and large underground spaces"},
	{"crime_hotspots", "易发或者频发刑事、治安案件的区域", "areas with frequent crime or disorder"},
	{"cash_transport", "货币、票据押运车辆和运输设备", "cash-in-transit vehicles"},
}

// requesterKinds are who asks for footage (ACC-4).
var requesterKinds = []Label{
	{"police", "公安机关", "police"},
	{"state_security", "国家安全机关", "state security"},
	{"admin_department", "其他行政管理部门", "other administrative departments"},
	{"building_unit", "建设、管理、使用单位（本单位）", "building / managing unit (its own staff)"},
	{"operator", "受托运营、维护单位", "entrusted operator / maintainer"},
	{"citizen", "自然人（本人、近亲属、监护人）", "citizen (the person, a close relative, a guardian)"},
	{"emergency", "突发事件调查、处置部门", "department handling an emergency"},
}

// approvals are who must approve before a requester may view or copy, ordered
// from least to most strict; the order is what Strictest uses.
var approvals = []Label{
	{"none", "无需批准", "no approval document"},
	{"own_unit", "本单位批准文件或介绍信（内部授权）", "own unit's approval document or letter (internal authorisation)"},
	{"managing_unit", "视频建设/管理单位同意", "consent of the building / managing unit"},
	{"police_coordination", "与所在地公安机关协调", "coordination with the local police"},
	{"police", "所在地县级以上公安机关批准", "approval of the police authority (county level or above)"},
	{"police_head", "公安机关负责人批准", "approval of the responsible head of the police authority"},
	{"state_security_head", "国家安全机关负责人批准", "approval of the responsible head of the state security organ"},
	{"forbidden", "不得查阅、调取", "not permitted"},
}

// approvalRank orders approvals by strictness. police_head and
// state_security_head are equally strict: each is the head of the requester's own authority.
var approvalRank = map[string]int{
	"none": 0, "own_unit": 1, "managing_unit": 2, "police_coordination": 3,
	"police": 4, "police_head": 5, "state_security_head": 5, "forbidden": 9,
}

// citizenRelations are who may ask as a citizen (ACC-7).
var citizenRelations = []Label{
	{"self", "本人", "the person"},
	{"close_relative", "近亲属", "a close relative"},
	{"guardian", "负有监护、看护、代管责任的人", "a guardian or carer"},
}

// Enumerated string values of other rules.
var (
	filingTriggers    = []Label{{"acceptance", "竣工验收合格之日起", "from passing acceptance"}, {"in_use", "投入使用之日起", "from going into use"}}
	removalTimings    = []Label{{"before", "移动或拆除前", "before the move or removal"}, {"after", "拆除后", "after the removal"}}
	protectedZoneRule = []Label{{"consult", "征求意见", "consult the facility's management"}, {"consent", "事先征得同意", "prior consent"}}
)

// PlaceTypes returns the privacy place types that can be prohibited, with labels.
func PlaceTypes() []Label { return append([]Label(nil), placeTypes...) }

// SiteCategories returns the site categories that profiles can mandate, with labels.
func SiteCategories() []Label { return append([]Label(nil), siteCategories...) }

// RequesterKinds returns the kinds of requester RetrievalApproval knows.
func RequesterKinds() []Label { return append([]Label(nil), requesterKinds...) }

// Approvals returns the approval values, least strict first.
func Approvals() []Label { return append([]Label(nil), approvals...) }

// CitizenRelations returns who may ask for footage as a citizen.
func CitizenRelations() []Label { return append([]Label(nil), citizenRelations...) }

// LabelOf returns the label of code in the catalogues, and whether it was found.
// The catalogues are searched in the order place types, site categories,
// requester kinds, approvals, …: "police" is the requester kind; use Approvals()
// for the approval of that name.
func LabelOf(code string) (Label, bool) {
	for _, set := range [][]Label{placeTypes, siteCategories, requesterKinds, approvals, citizenRelations, filingTriggers, removalTimings, protectedZoneRule} {
		if l, ok := find(set, code); ok {
			return l, true
		}
	}
	return Label{}, false
}

func find(set []Label, code string) (Label, bool) {
	for _, l := range set {
		if l.Code == code {
			return l, true
		}
	}
	return Label{}, false
}

func codes(set []Label) []string {
	out := make([]string, len(set))
	for i, l := range set {
		out[i] = l.Code
	}
	return out
}
