"""Tests of the incidents package: services, web views, JSON API, timeline and query counts."""
