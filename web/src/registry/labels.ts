// Codes of the profile catalogues the registry pages offer, in catalogue
// order. Their labels are placeType.<code> and siteCategory.<code> in the
// locale files; web/registry_labels_test.go checks these lists against
// internal/profile so that they cannot drift.

/** Privacy place types a profile may prohibit (REG-6), internal/profile placeTypes. */
export const placeTypes = [
  'hotel_guest_room', 'dormitory', 'apartment_room', 'public_bath', 'changing_room', 'toilet',
  'nursing_room', 'fitting_room', 'makeup_room', 'financial_customer_info_area', 'ballot_box', 'report_box',
  'voting_point',
] as const;

/** Site categories a profile may mandate (REG-5), internal/profile siteCategories. */
export const siteCategories = [
  'main_roads', 'admin_boundary_roads', 'bridges_tunnels_underpasses', 'squares',
  'security_key_unit_surroundings', 'key_target_key_parts', 'transport_hubs', 'public_transport_vehicles',
  'highway_service_areas', 'energy_utilities', 'water_works', 'fuel_stations_depots', 'material_reserves',
  'hazardous_materials', 'news_media', 'telecom_postal', 'finance', 'currency_securities',
  'precious_metals_jewelry', 'second_hand_pawn', 'state_organs', 'key_construction_projects',
  'defense_industry', 'research_institutions', 'schools', 'hospitals', 'museums_cultural_relics', 'archives',
  'commercial_centers', 'commercial_streets', 'exhibition_centers', 'logistics_centers', 'farmers_markets',
  'culture_sports_entertainment', 'tourist_sites', 'parks', 'forests_wetlands', 'government_service_halls',
  'public_parking', 'hotels_catering', 'internet_cafes', 'residential_areas',
  'emergency_shelters_underground', 'crime_hotspots', 'cash_transport',
] as const;
