from django.urls import path

from linge.visits import views

# Included by linge.workbench.urls under /work/visits/ (namespace "workbench").
urlpatterns = [
    path("", views.overview, name="visits"),
    path("grid/<int:grid_id>/", views.grid_page, name="visits_grid"),
    path("household/<int:pk>/", views.household_page, name="visits_household"),
]
